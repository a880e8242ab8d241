/** Pages beyond Slack, the use cases: queue a tier's rules, and act on an answer from a provider. */
import type { MlopsConfig } from "../config/index.js";
import type { Db } from "../db/index.js";
import type { PagerQueue } from "../escalation/index.js";
import {
  type ActionRequest,
  type ActionResult,
  createIncidentRepository,
  type Incident,
  parseRef,
} from "../incidents/index.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import { PAGER_EVENTS, pagerLabel, providerLabel } from "./model.js";
import { createPagerRepository } from "./repository.js";
import type { PagerAnswer } from "./webhooks.js";

/** What the pagers feature needs. */
export interface PagerDeps {
  db: Db;
  clock: Clock;
  config: MlopsConfig;
  logger: Logger;
  /** The incident service's state change (acknowledge or resolve as the mapped person). */
  act(req: ActionRequest): Promise<ActionResult>;
  /** After a call is queued: make it now rather than at the next tick. */
  wake?: () => void;
}

/** The escalation port: each rule becomes a pager call due `after` the Slack page. */
export function pagerQueue(): PagerQueue {
  return {
    async queue(tx, page) {
      const repo = createPagerRepository(tx);
      const ref = `INC-${page.incident.id}`;
      for (const rule of page.rules) {
        await repo.add(
          page.incident.model,
          {
            incidentId: page.incident.id,
            ref,
            pager: rule.pager,
            action: "trigger",
            tier: page.tier,
            step: page.step,
            afterMs: rule.afterMs,
            ...(rule.person ? { person: rule.person } : {}),
          },
          page.now,
          new Date(page.now.getTime() + rule.afterMs),
        );
      }
    },
  };
}

/** What came of an answer. */
export interface AnswerOutcome {
  outcome: "done" | "unchanged" | "refused" | "ignored" | "unmapped";
  message: string;
}

/** Acts on verified answers from providers. */
export function createPagerService(deps: PagerDeps) {
  const { db, clock, config } = deps;
  return {
    /** Acts on `answer` from pager `name` as the Slack user its provider user maps to. */
    async answer(name: string, answer: PagerAnswer): Promise<AnswerOutcome> {
      const pager = config.pagers[name];
      if (!pager) return { outcome: "ignored", message: `no pager ${name}` };
      if (answer.kind === "ignored") return { outcome: "ignored", message: answer.why };
      const incidentId = parseRef(answer.ref);
      const incident = incidentId ? await createIncidentRepository(db).byId(incidentId) : undefined;
      if (!incident) return { outcome: "ignored", message: `no incident ${answer.ref}` };
      const slackUser = pager.users[answer.user];
      const where = providerLabel(pager.type);
      if (!slackUser) {
        await createIncidentRepository(db).addEvent({
          incidentId: incident.id,
          at: clock.now(),
          kind: PAGER_EVENTS.unmapped,
          actor: `${pager.type}:${answer.user}`,
          via: "pager",
          detail: {
            what: `${answer.action} in ${pagerLabel(name, pager)} by ${answer.userName ?? answer.user}, who has no Slack user in pagers.${name}.users`,
            pager: name,
            action: answer.action,
            user: answer.user,
          },
        });
        return { outcome: "unmapped", message: `${answer.user} is not in pagers.${name}.users` };
      }
      // The provider already knows: marked as told before acting (the worker's follow-up pass may
      // run as soon as the incident changes), so the answer is never echoed back to it.
      await markTold(db, incident, name, answer.action, clock.now());
      const result = await deps.act({
        incidentId: incident.id,
        action: answer.action,
        actor: slackUser,
        via: "pager",
        from: where,
      });
      return { outcome: result.outcome, message: result.message };
    },
  };
}

async function markTold(
  db: Db,
  incident: Incident,
  pager: string,
  action: "acknowledge" | "resolve",
  now: Date,
) {
  const repo = createPagerRepository(db);
  if (!(await repo.triggered(incident.id, pager))) return;
  await repo.add(
    incident.model,
    { incidentId: incident.id, ref: `INC-${incident.id}`, pager, action },
    now,
    now,
    "done",
  );
}

/** The pagers service. */
export type PagerService = ReturnType<typeof createPagerService>;
