import type { Db } from "../../db/index.js";
import type { EscalationNotifier, PageMessage } from "../../escalation/index.js";
import type { Incident } from "../../incidents/index.js";
import { createOutboxRepository } from "../../outbox/index.js";
import type { Clock } from "../../shared/clock.js";
import { pageMessage } from "./blocks.js";

/**
 * Escalation's Slack writes as outbox rows: the page's group mention (a reply under the incident's
 * card, or top level in a tier's own channel), the DMs, thread notes and ephemerals. Card edits are
 * the incidents feature's (its coalesced `chat.update`), passed in.
 */
export function createSlackEscalationNotifier(deps: {
  clock: Clock;
  wake: () => void;
  updateCard: (tx: Db, incident: Incident) => Promise<number>;
}): EscalationNotifier {
  const { clock } = deps;
  return {
    mention(tx, message: PageMessage, channel) {
      const { incident } = message;
      return createOutboxRepository(tx).enqueue(
        {
          method: "chat.postMessage",
          channel: channel ?? incident.channel,
          parentId: channel ? undefined : (incident.cardOutboxId ?? undefined),
          payload: { ...pageMessage(message, "mention") },
        },
        clock.now(),
      );
    },
    dm(tx, message, dmChannel) {
      return createOutboxRepository(tx).enqueue(
        { method: "chat.postMessage", channel: dmChannel, payload: { ...pageMessage(message, "dm") } },
        clock.now(),
      );
    },
    note(tx, incident, text) {
      return createOutboxRepository(tx).enqueue(
        {
          method: "chat.postMessage",
          channel: incident.channel,
          parentId: incident.cardOutboxId ?? undefined,
          payload: { text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] },
        },
        clock.now(),
      );
    },
    tell(tx, to, text) {
      return createOutboxRepository(tx).enqueue(
        { method: "chat.postEphemeral", channel: to.channel, payload: { user: to.user, text } },
        clock.now(),
      );
    },
    updateCard: deps.updateCard,
    wake: deps.wake,
  };
}
