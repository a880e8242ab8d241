import { describePrincipals } from "../access/index.js";
import { createAuditRepository } from "../audit/index.js";
import type { Db } from "../db/index.js";
import { formatDuration } from "../shared/duration.js";
import { createAlertRepository } from "./alert-repository.js";
import { type IncidentDeps, snapshotOf } from "./deps.js";
import { IncidentNotFoundError, SilenceError } from "./errors.js";
import { EVENT_KINDS, formatRef, type Silence, type Via } from "./model.js";
import { createIncidentRepository } from "./repository.js";
import { formatSilenceRef, type SilenceTarget } from "./silence-model.js";

/** A request to mute alerts. */
export interface SilenceRequest {
  target: SilenceTarget;
  durationMs: number;
  reason: string;
  actor: string;
  via: Via;
  replyTo?: { channel: string; user: string } | undefined;
}

/** What came of a silence request; `message` is for the person who asked. */
export interface SilenceResult {
  outcome: "done" | "refused";
  silence: Silence | null;
  message: string;
}

/** Silences: set, end and list, each noted on the incidents they mute. */
export function createSilenceService(deps: IncidentDeps) {
  const { db, clock, config, notifier, access } = deps;

  /** Notes a silence starting or ending on every unresolved incident it covers. */
  async function noteOnIncidents(
    tx: Db,
    silence: Silence,
    kind: "silenced" | "unsilenced" | "expired",
    actor: string,
    via: Via,
  ): Promise<number> {
    const incidents = createIncidentRepository(tx);
    const covered = await incidents.activeMatching(silence);
    const now = clock.now();
    for (const incident of covered) {
      const outboxId = await notifier.reply(
        tx,
        incident,
        kind === "silenced"
          ? { kind: "silenced", silence, actor }
          : { kind: "silence_over", silence, how: kind === "expired" ? "expired" : "ended", actor },
      );
      await incidents.addEvent({
        incidentId: incident.id,
        at: now,
        kind:
          kind === "silenced"
            ? EVENT_KINDS.silenced
            : kind === "expired"
              ? EVENT_KINDS.silenceExpired
              : EVENT_KINDS.unsilenced,
        actor,
        via,
        detail: {
          silence: formatSilenceRef(silence.id),
          until: silence.endsAt.toISOString(),
          reason: silence.reason,
        },
        outboxId,
      });
      await notifier.updateCard(tx, await snapshotOf(deps, tx, incident));
    }
    return covered.length;
  }

  async function refuse(
    tx: Db,
    req: { actor: string; via: Via; replyTo?: SilenceRequest["replyTo"] },
    model: string,
    allowed: string[],
    incidentId: number | null,
    what: string,
  ): Promise<string> {
    const message = `You may not silence ${what}: that takes ${describePrincipals(config, allowed, model)}. Nothing was changed.`;
    const outboxId = req.replyTo ? await notifier.tell(tx, req.replyTo, message) : null;
    if (incidentId !== null) {
      await createIncidentRepository(tx).addEvent({
        incidentId,
        at: clock.now(),
        kind: EVENT_KINDS.refused,
        actor: req.actor,
        via: req.via,
        detail: { action: "silence", allowed },
        outboxId,
      });
    }
    await createAuditRepository(tx).record({
      source: req.via === "api" ? "api" : "slack",
      actor: req.actor,
      action: "silence.create",
      target: what,
      outcome: "refused",
      detail: { allowed },
    });
    return message;
  }

  return {
    /** Mutes a model, a monitor of a model, or one incident's fingerprint for `durationMs`. */
    async create(req: SilenceRequest): Promise<SilenceResult> {
      const reason = req.reason.trim();
      if (!reason) throw new SilenceError("invalid_silence", "Say why: a silence needs a reason.");
      if (reason.length > 500)
        throw new SilenceError("invalid_silence", "Keep the reason under 500 characters.");
      let matcher: {
        model: string;
        monitor: string | null;
        fingerprint: string | null;
        incidentId: number | null;
      };
      let what: string;
      if (req.target.kind === "incident") {
        const incident = await createIncidentRepository(db).byId(req.target.incidentId);
        if (!incident) throw new IncidentNotFoundError(formatRef(req.target.incidentId));
        matcher = {
          model: incident.model,
          monitor: null,
          fingerprint: incident.fingerprint,
          incidentId: incident.id,
        };
        what = formatRef(incident.id);
      } else {
        const { model, monitor } = req.target;
        if (!config.models.some((m) => m.slug === model)) {
          throw new SilenceError(
            "invalid_silence",
            `There is no model \`${model}\`; \`/mlops models\` lists them.`,
          );
        }
        matcher = { model, monitor, fingerprint: null, incidentId: null };
        what = monitor ? `${model}/${monitor}` : model;
      }
      const decision = await access.can(req.actor, "silence", matcher.model);
      const result = await db.transaction(async (tx): Promise<SilenceResult> => {
        if (!decision.allowed) {
          const message = await refuse(
            tx,
            req,
            matcher.model,
            decision.allowedPrincipals,
            matcher.incidentId,
            what,
          );
          return { outcome: "refused", silence: null, message };
        }
        const now = clock.now();
        const silence = await createAlertRepository(tx).insertSilence({
          ...matcher,
          startsAt: now,
          endsAt: new Date(now.getTime() + req.durationMs),
          createdBy: req.actor,
          reason,
        });
        const covered = await noteOnIncidents(tx, silence, "silenced", req.actor, req.via);
        await createAuditRepository(tx).record({
          source: req.via === "api" ? "api" : "slack",
          actor: req.actor,
          action: "silence.create",
          target: what,
          outcome: "ok",
          detail: { silence: silence.id, durationMs: req.durationMs, reason },
        });
        const scope = covered ? ` (${covered} open incident${covered === 1 ? "" : "s"} muted)` : "";
        return {
          outcome: "done",
          silence,
          message: `${formatSilenceRef(silence.id)}: ${what} silenced for ${formatDuration(req.durationMs)}${scope}.`,
        };
      });
      notifier.wake();
      return result;
    },

    /** Ends a silence before its time. */
    async end(req: { id: number; actor: string; via: Via }): Promise<SilenceResult> {
      const existing = await createAlertRepository(db).silenceById(req.id);
      if (!existing)
        throw new SilenceError("silence_not_found", `There is no silence ${formatSilenceRef(req.id)}.`);
      const model = existing.model ?? "";
      const decision = await access.can(req.actor, "silence", model || undefined);
      const result = await db.transaction(async (tx): Promise<SilenceResult> => {
        if (!decision.allowed) {
          const message = await refuse(
            tx,
            req,
            model,
            decision.allowedPrincipals,
            existing.incidentId,
            formatSilenceRef(req.id),
          );
          return { outcome: "refused", silence: existing, message };
        }
        const ended = await createAlertRepository(tx).endSilence(req.id, req.actor, clock.now());
        if (!ended)
          return {
            outcome: "done",
            silence: existing,
            message: `${formatSilenceRef(req.id)} was already over.`,
          };
        await noteOnIncidents(tx, ended, "unsilenced", req.actor, req.via);
        await createAuditRepository(tx).record({
          source: req.via === "api" ? "api" : "slack",
          actor: req.actor,
          action: "silence.end",
          target: formatSilenceRef(req.id),
          outcome: "ok",
        });
        return {
          outcome: "done",
          silence: ended,
          message: `${formatSilenceRef(req.id)} ended; alerts it muted notify again.`,
        };
      });
      notifier.wake();
      return result;
    },

    /** Silences in force now. */
    active(): Promise<Silence[]> {
      return createAlertRepository(db).activeSilences(clock.now());
    },

    /** Notes on their incidents the silences that ran out (called by the scheduled tick). */
    async noteExpiries(limit = 50): Promise<number> {
      const n = await db.transaction(async (tx) => {
        const alerts = createAlertRepository(tx);
        const due = await alerts.dueExpiries(clock.now(), limit);
        for (const silence of due) {
          await noteOnIncidents(tx, silence, "expired", "system", "schedule");
          await alerts.markExpiryNoted(silence.id, clock.now());
        }
        return due.length;
      });
      if (n) notifier.wake();
      return n;
    },
  };
}

/** The silence service. */
export type SilenceService = ReturnType<typeof createSilenceService>;
