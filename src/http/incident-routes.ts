import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import type { ApiTokenService } from "../api-tokens/index.js";
import {
  type AlertIntake,
  formatRef,
  INCIDENT_STATES,
  type Incident,
  IncidentError,
  type IncidentService,
  type IncidentState,
  InvalidSignalError,
  parseRef,
  type TimelineEntry,
} from "../incidents/index.js";
import type { OutboxRepository } from "../outbox/index.js";
import { alertmanagerPayloadSchema, signalsFromAlertmanager } from "./alertmanager.js";
import { bearerAuth } from "./bearer-auth.js";

/** What the API routes call. */
export interface IncidentRouteDeps {
  incidents: IncidentService;
  intake: AlertIntake;
  outbox: OutboxRepository;
  apiTokens: ApiTokenService;
  modelLabel: string;
  models: readonly string[];
  now: () => Date;
}

const listQuery = z.strictObject({
  state: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s || s === "all") return undefined;
      const states = s
        .split(",")
        .flatMap((x) => (x === "active" ? ["open", "acknowledged", "mitigated"] : [x]));
      for (const x of states) {
        if (!(INCIDENT_STATES as readonly string[]).includes(x)) {
          ctx.addIssue({
            code: "custom",
            message: `unknown state '${x}' (expected ${INCIDENT_STATES.join(", ")}, active or all)`,
          });
          return z.NEVER;
        }
      }
      return states as IncidentState[];
    }),
  model: z.string().max(63).optional(),
  since: z.iso
    .datetime({ offset: true })
    .transform((s) => new Date(s))
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** An incident as the API shows it. */
function incidentJson(i: Incident) {
  return {
    ref: formatRef(i.id),
    id: i.id,
    state: i.state,
    title: i.title,
    severity: i.severity,
    /** Who set the severity by hand; null while it follows the findings. */
    severitySetBy: i.severitySetBy,
    model: i.model,
    modelVersion: i.modelVersion,
    monitor: i.monitor,
    subject: i.subject,
    fingerprint: i.fingerprint,
    channel: i.channel,
    assignee: i.assignee,
    /** The owner (the same person as `assignee`, under the name the card uses). */
    owner: i.assignee,
    lastUpdateAt: i.lastUpdateAt,
    updateDueAt: i.updateDueAt,
    alertCount: i.alertCount,
    openedAt: i.openedAt,
    lastFiredAt: i.lastFiredAt,
    acknowledgedAt: i.acknowledgedAt,
    acknowledgedBy: i.acknowledgedBy,
    mitigatedAt: i.mitigatedAt,
    mitigatedBy: i.mitigatedBy,
    resolvedAt: i.resolvedAt,
    resolvedBy: i.resolvedBy,
    resolution: i.resolution,
  };
}

function eventJson(e: TimelineEntry) {
  return {
    id: e.id,
    at: e.at,
    kind: e.kind,
    actor: e.actor,
    via: e.via,
    detail: e.detail,
    slackDelivery: e.delivery,
  };
}

function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof InvalidSignalError) {
    return reply.code(400).send({ error: err.code, message: err.message, issues: err.issues });
  }
  if (err instanceof IncidentError)
    return reply.code(err.status).send({ error: err.code, message: err.message });
  throw err;
}

/**
 * `GET /api/v1/incidents`, `GET /api/v1/incidents/:ref` and `POST /api/v1/alertmanager`, behind
 * bearer tokens. Bad input is a 400 naming the problem, and nothing is written.
 */
export function incidentRoutes(deps: IncidentRouteDeps) {
  return async (scope: FastifyInstance): Promise<void> => {
    // On request, before the body is read: a caller without a valid token never gets it parsed.
    scope.addHook("onRequest", bearerAuth(deps.apiTokens));

    scope.get("/api/v1/incidents", { config: { scope: "read" } }, async (req, reply) => {
      const q = listQuery.safeParse(req.query);
      if (!q.success) return reply.code(400).send({ error: "bad_request", issues: q.error.issues });
      const list = await deps.incidents.list({
        states: q.data.state,
        model: q.data.model,
        since: q.data.since,
        limit: q.data.limit,
      });
      return { incidents: list.map(incidentJson) };
    });

    scope.get<{ Params: { ref: string } }>(
      "/api/v1/incidents/:ref",
      { config: { scope: "read" } },
      async (req, reply) => {
        const id = parseRef(req.params.ref);
        if (id === undefined) {
          return reply
            .code(400)
            .send({ error: "bad_request", message: "expected an incident reference like INC-12" });
        }
        try {
          const snapshot = await deps.incidents.snapshot(id);
          const timeline = await deps.incidents.timeline(id);
          const card = snapshot.incident.cardOutboxId
            ? await deps.outbox.byId(snapshot.incident.cardOutboxId)
            : undefined;
          return {
            incident: incidentJson(snapshot.incident),
            alert: {
              fingerprint: snapshot.alert.fingerprint,
              state: snapshot.alert.state,
              firstSeenAt: snapshot.alert.firstSeenAt,
              lastSeenAt: snapshot.alert.lastSeenAt,
              fireCount: snapshot.alert.fireCount,
              summary: snapshot.alert.summary,
              rule: snapshot.alert.rule,
              metrics: snapshot.alert.metrics,
              labels: snapshot.alert.labels,
            },
            // The findings of its group (one for an incident per finding), ranked as on the card.
            members: snapshot.members.map((m) => ({
              subject: m.alert.subject,
              monitor: m.alert.monitor,
              fingerprint: m.alert.fingerprint,
              state: m.state,
              severity: m.alert.severity,
              title: m.alert.title,
              rule: m.alert.rule,
              metrics: m.alert.metrics,
              joinedAt: m.joinedAt,
              recoveredAt: m.recoveredAt,
              cleanRuns: m.cleanRuns,
              flaps: m.flaps,
            })),
            slack: card?.resultTs ? { channel: card.resultChannel, ts: card.resultTs } : null,
            silencedUntil: snapshot.silence?.endsAt ?? null,
            timeline: timeline.map(eventJson),
          };
        } catch (err) {
          return sendError(reply, err);
        }
      },
    );

    scope.post("/api/v1/alertmanager", { config: { scope: "alerts" } }, async (req, reply) => {
      const body = alertmanagerPayloadSchema.safeParse(req.body);
      if (!body.success) return reply.code(400).send({ error: "bad_request", issues: body.error.issues });
      if (body.data.version && body.data.version !== "4") {
        req.log.warn(
          { version: body.data.version },
          "Alertmanager webhook version is not 4; reading it as 4",
        );
      }
      const { signals, issues } = signalsFromAlertmanager(
        body.data,
        deps.modelLabel,
        deps.models,
        deps.now(),
      );
      if (issues.length) {
        return reply.code(400).send({
          error: "bad_request",
          message: "some alerts name no known model; nothing was recorded",
          issues,
        });
      }
      try {
        const outcomes = await deps.intake.process(signals);
        return {
          status: "ok",
          alerts: outcomes.length,
          incidents: outcomes.map((o) => ({
            effect: o.effect,
            ref: o.incidentId ? formatRef(o.incidentId) : null,
          })),
        };
      } catch (err) {
        return sendError(reply, err);
      }
    });
  };
}
