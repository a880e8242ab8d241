import type { App } from "@slack/bolt";
import { z } from "zod";
import type { Db } from "../../db/index.js";
import {
  createRetrainingRepository,
  RetrainingError,
  type RetrainingService,
  type RolloutService,
} from "../../retraining/index.js";
import type { Logger } from "../../shared/logger.js";
import { ACTION_IDS, INPUT_IDS, VIEW_IDS } from "../action-ids.js";
import { type IdButtonClick, inputText, parseIdButtonClick, parseViewSubmission } from "../interactions.js";
import type { SlackApi } from "../web-api.js";
import { rejectModal } from "./blocks.js";

/** What the listeners call. */
export interface RetrainingListenerDeps {
  db: Db;
  service: RetrainingService;
  rollout: RolloutService;
  api: () => SlackApi;
  logger: Logger;
  /** Tells one person something (an ephemeral through the outbox). */
  tell(to: { channel: string; user: string }, text: string): Promise<void>;
}

const metadataSchema = z.object({ candidateId: z.number().int().positive(), channel: z.string().min(1) });

/**
 * The approval card's Approve / Reject (with its reason modal) and the comparison's Promote /
 * Roll back. Each validates the payload, calls one service (permission check, change, timeline,
 * audit and Slack writes in one transaction), and acknowledges.
 */
export function registerRetrainingListeners(app: App, deps: RetrainingListenerDeps): void {
  const { logger } = deps;

  async function handleClick(
    body: unknown,
    ack: () => Promise<void>,
    work: (c: IdButtonClick) => Promise<void>,
  ) {
    const click = parseIdButtonClick(body);
    try {
      if (!click) {
        logger.warn("ignored a retraining button click with an unexpected payload");
        return;
      }
      await work(click);
    } catch (err) {
      const known = err instanceof RetrainingError;
      if (!known) logger.error({ err }, "retraining button failed");
      if (click)
        await deps
          .tell(
            { channel: click.channel, user: click.user },
            known ? err.message : "Something went wrong on our side; it has been logged.",
          )
          .catch((e: unknown) => logger.error({ err: e }, "could not tell the user about a failure"));
    } finally {
      await ack();
    }
  }

  app.action(ACTION_IDS.retrainApprove, async ({ ack, body }) => {
    await handleClick(body, ack, async (c) => {
      await deps.service.decide({
        candidateId: c.id,
        decision: "approve",
        actor: c.user,
        via: "button",
        replyTo: { channel: c.channel, user: c.user },
      });
    });
  });

  app.action(ACTION_IDS.canaryPromote, async ({ ack, body }) => {
    await handleClick(body, ack, async (c) => {
      await deps.rollout.finish({
        candidateId: c.id,
        action: "promote",
        actor: c.user,
        via: "button",
        replyTo: { channel: c.channel, user: c.user },
      });
    });
  });

  app.action(ACTION_IDS.canaryRollback, async ({ ack, body }) => {
    await handleClick(body, ack, async (c) => {
      await deps.rollout.finish({
        candidateId: c.id,
        action: "rollback",
        actor: c.user,
        via: "button",
        replyTo: { channel: c.channel, user: c.user },
      });
    });
  });

  // Reject asks for a reason first; the permission is checked before the dialog opens, and again on submit.
  app.action(ACTION_IDS.retrainReject, async ({ ack, body }) => {
    let open: { triggerId: string; channel: string; candidateId: number } | undefined;
    await handleClick(body, ack, async (c) => {
      const check = await deps.service.precheck({
        candidateId: c.id,
        actor: c.user,
        via: "button",
        replyTo: { channel: c.channel, user: c.user },
      });
      if (!check.allowed) return;
      open = { triggerId: c.triggerId, channel: c.channel, candidateId: c.id };
    });
    if (!open) return;
    const candidate = await createRetrainingRepository(deps.db).candidate(open.candidateId);
    if (!candidate) return;
    try {
      await deps.api().call("views.open", {
        trigger_id: open.triggerId,
        view: rejectModal(candidate, { candidateId: candidate.id, channel: open.channel }),
      });
    } catch (err) {
      logger.warn({ err, candidate: candidate.id }, "could not open the reject dialog");
    }
  });

  app.view(VIEW_IDS.retrainReject, async ({ ack, body }) => {
    const submission = parseViewSubmission(body, metadataSchema);
    if (!submission) {
      logger.warn("ignored a reject dialog submission with an unexpected payload");
      await ack();
      return;
    }
    const reason = inputText(submission.values, INPUT_IDS.rejectReasonBlock, INPUT_IDS.rejectReason);
    if (!reason) {
      await ack({ response_action: "errors", errors: { [INPUT_IDS.rejectReasonBlock]: "Say why." } });
      return;
    }
    try {
      const result = await deps.service.decide({
        candidateId: submission.meta.candidateId,
        decision: "reject",
        actor: submission.user,
        reason: reason.slice(0, 1000),
        via: "modal",
      });
      if (result.outcome === "rejected") await ack();
      else
        await ack({ response_action: "errors", errors: { [INPUT_IDS.rejectReasonBlock]: result.message } });
    } catch (err) {
      if (!(err instanceof RetrainingError)) logger.error({ err }, "rejecting from the dialog failed");
      const text =
        err instanceof RetrainingError
          ? err.message
          : "Something went wrong on our side; it has been logged.";
      await ack({ response_action: "errors", errors: { [INPUT_IDS.rejectReasonBlock]: text } });
    }
  });
}
