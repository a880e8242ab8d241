import type { Db } from "../../db/index.js";
import { createOutboxRepository } from "../../outbox/index.js";
import type { RetrainingNotifier } from "../../retraining/index.js";
import type { Clock } from "../../shared/clock.js";
import { candidateCard, comparisonBlocks, noteText } from "./blocks.js";

/**
 * Retraining's Slack writes as outbox rows: thread notes hang on the incident card (or on the
 * retrain request's own post), the approval card is edited in place (coalesced per candidate).
 */
export function createSlackRetrainingNotifier(deps: { clock: Clock; wake: () => void }): RetrainingNotifier {
  const { clock } = deps;
  const message = (text: string) => ({
    text: text.replace(/<@([A-Z0-9]+)>/g, "@$1").slice(0, 3000),
    blocks: [{ type: "section", text: { type: "mrkdwn", text: text.slice(0, 3000) } }],
  });
  return {
    post(tx: Db, channel, note) {
      return createOutboxRepository(tx).enqueue(
        { method: "chat.postMessage", channel, payload: message(noteText(note)) },
        clock.now(),
      );
    },
    reply(tx: Db, target, note) {
      return createOutboxRepository(tx).enqueue(
        {
          method: "chat.postMessage",
          channel: target.channel,
          parentId: target.parentId ?? undefined,
          payload: message(noteText(note)),
        },
        clock.now(),
      );
    },
    postCard(tx: Db, target, card) {
      return createOutboxRepository(tx).enqueue(
        {
          method: "chat.postMessage",
          channel: target.channel,
          parentId: target.parentId ?? undefined,
          payload: { ...candidateCard(card) },
        },
        clock.now(),
      );
    },
    updateCard(tx: Db, card) {
      const c = card.candidate;
      if (c.cardOutboxId === null)
        return this.postCard(tx, { channel: c.channel, parentId: c.threadOutboxId }, card);
      return createOutboxRepository(tx).enqueue(
        {
          method: "chat.update",
          channel: c.channel,
          parentId: c.cardOutboxId,
          payload: { ...candidateCard(card) },
          coalesceKey: `candidate:${c.id}`,
        },
        clock.now(),
      );
    },
    postComparison(tx: Db, target, view) {
      return createOutboxRepository(tx).enqueue(
        {
          method: "chat.postMessage",
          channel: target.channel,
          parentId: target.parentId ?? undefined,
          payload: { ...comparisonBlocks(view) },
        },
        clock.now(),
      );
    },
    tell(tx: Db, to, text) {
      return createOutboxRepository(tx).enqueue(
        { method: "chat.postEphemeral", channel: to.channel, payload: { user: to.user, text } },
        clock.now(),
      );
    },
    wake: deps.wake,
  };
}
