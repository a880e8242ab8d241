import { canaryChart, evaluationChart } from "../../charts/retraining-charts.js";
import { chartMessage } from "../../charts/upload.js";
import type { Db } from "../../db/index.js";
import { createOutboxRepository } from "../../outbox/index.js";
import type { RetrainingNotifier, RuleSnapshot } from "../../retraining/index.js";
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
    async postCard(tx: Db, target, card) {
      const outbox = createOutboxRepository(tx);
      const id = await outbox.enqueue(
        {
          method: "chat.postMessage",
          channel: target.channel,
          parentId: target.parentId ?? undefined,
          payload: { ...candidateCard(card) },
        },
        clock.now(),
      );
      // The picture of the card's table: champion against challenger on each metric, in the thread.
      const c = card.candidate;
      const rules = c.rules as unknown as RuleSnapshot;
      if (rules.checks.length)
        await outbox.enqueue(
          chartMessage(
            target.channel,
            target.parentId ?? id,
            evaluationChart({
              model: c.model,
              championVersion: c.championVersion ?? "champion",
              challengerVersion: c.version,
              checks: rules.checks,
            }),
            `candidate-${c.id}`,
          ),
          clock.now(),
        );
      return id;
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
    async postComparison(tx: Db, target, view) {
      const outbox = createOutboxRepository(tx);
      const id = await outbox.enqueue(
        {
          method: "chat.postMessage",
          channel: target.channel,
          parentId: target.parentId ?? undefined,
          payload: { ...comparisonBlocks(view) },
        },
        clock.now(),
      );
      const k = view.comparison;
      if (k.champion.n + k.challenger.n > 0) {
        // Each comparison gets its own picture: the file name counts the thread's comparisons.
        const seq = await outbox.countUnder(target.parentId ?? id, "files.uploadV2");
        await outbox.enqueue(
          chartMessage(
            target.channel,
            target.parentId ?? id,
            canaryChart({
              model: view.candidate.model,
              champion: k.champion,
              challenger: k.challenger,
              summary: k.summary,
            }),
            `candidate-${view.candidate.id}-canary-${seq + 1}`,
          ),
          clock.now(),
        );
      }
      return id;
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
