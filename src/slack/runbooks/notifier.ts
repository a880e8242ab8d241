import type { Db } from "../../db/index.js";
import { createOutboxRepository } from "../../outbox/index.js";
import type { RunbookNotifier } from "../../runbooks/index.js";
import type { Clock } from "../../shared/clock.js";
import { OUTPUT_TAIL_CHARS, runProgressMessage } from "./blocks.js";

/**
 * The runbooks' Slack writes as outbox rows: the progress message (in the incident's thread, hung
 * on the card's row, or in the channel the command came from), its in-place edits, the full output
 * as a file in the same thread, replies and ephemerals.
 */
export function createSlackRunbookNotifier(deps: { clock: Clock; wake: () => void }): RunbookNotifier {
  const { clock } = deps;
  const outbox = (tx: Db) => createOutboxRepository(tx);
  return {
    postProgress(tx, place, runbook, run) {
      return outbox(tx).enqueue(
        {
          method: "chat.postMessage",
          channel: place.channel,
          parentId: place.incident?.cardOutboxId ?? undefined,
          payload: { ...runProgressMessage(run, runbook, place.incident) },
        },
        clock.now(),
      );
    },
    updateProgress(tx, place, runbook, run) {
      if (run.progressOutboxId === null) return this.postProgress(tx, place, runbook, run);
      return outbox(tx).enqueue(
        {
          method: "chat.update",
          channel: place.channel,
          parentId: run.progressOutboxId,
          payload: { ...runProgressMessage(run, runbook, place.incident) },
          coalesceKey: `runbook-run:${run.id}`,
        },
        clock.now(),
      );
    },
    async uploadOutput(tx, place, run) {
      if (run.output.length <= OUTPUT_TAIL_CHARS && !run.outputOmitted) return null;
      return outbox(tx).enqueue(
        {
          method: "files.uploadV2",
          channel: place.channel,
          parentId: place.incident?.cardOutboxId ?? run.progressOutboxId ?? undefined,
          payload: {
            filename: `${run.runbook}-run-${run.id}.log`,
            title: `Output of ${run.runbook} (run ${run.id})`,
            content: run.output,
          },
        },
        clock.now(),
      );
    },
    reply(tx, place, text) {
      return outbox(tx).enqueue(
        {
          method: "chat.postMessage",
          channel: place.channel,
          parentId: place.incident?.cardOutboxId ?? undefined,
          payload: { text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] },
        },
        clock.now(),
      );
    },
    tell(tx, to, text) {
      return outbox(tx).enqueue(
        { method: "chat.postEphemeral", channel: to.channel, payload: { user: to.user, text } },
        clock.now(),
      );
    },
    wake: deps.wake,
  };
}
