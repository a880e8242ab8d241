import { chartMessage } from "../../charts/upload.js";
import type { Db } from "../../db/index.js";
import type { IncidentNotifier } from "../../incidents/index.js";
import { formatRef } from "../../incidents/model.js";
import { createOutboxRepository } from "../../outbox/index.js";
import type { Clock } from "../../shared/clock.js";
import { handOverMessage, incidentCard } from "../blocks/incident-card.js";
import { clip } from "../blocks/incident-format.js";
import { feedText, stakeholderText, threadNoteFallback, threadNoteText } from "../blocks/incident-thread.js";

/**
 * The incidents' Slack writes as outbox rows: cards, in-place card edits (coalesced, so a flood of
 * firings becomes one edit), thread replies hanging on the card's row, and ephemerals.
 */
export function createSlackIncidentNotifier(deps: { clock: Clock; wake: () => void }): IncidentNotifier {
  const { clock } = deps;
  return {
    postCard(tx: Db, card, delayMs) {
      return createOutboxRepository(tx).enqueue(
        {
          method: "chat.postMessage",
          channel: card.incident.channel,
          payload: { ...incidentCard(card) },
          delayMs,
        },
        clock.now(),
      );
    },
    updateCard(tx: Db, card) {
      const { incident } = card;
      if (incident.cardOutboxId === null) return this.postCard(tx, card, 0);
      return createOutboxRepository(tx).enqueue(
        {
          method: "chat.update",
          channel: incident.channel,
          parentId: incident.cardOutboxId,
          payload: { ...incidentCard(card) },
          coalesceKey: `card:${incident.id}`,
        },
        clock.now(),
      );
    },
    feed(tx: Db, channel, alert) {
      const text = feedText(alert);
      return createOutboxRepository(tx).enqueue(
        {
          method: "chat.postMessage",
          channel,
          payload: {
            text: clip(`Info: ${alert.title} (${alert.model})`, 3000),
            blocks: [{ type: "section", text: { type: "mrkdwn", text } }],
          },
        },
        clock.now(),
      );
    },
    reply(tx: Db, incident, note) {
      const text = threadNoteText(note);
      return createOutboxRepository(tx).enqueue(
        {
          method: "chat.postMessage",
          channel: incident.channel,
          parentId: incident.cardOutboxId ?? undefined,
          payload: {
            text: threadNoteFallback(incident.id, note),
            blocks: [{ type: "section", text: { type: "mrkdwn", text } }],
          },
        },
        clock.now(),
      );
    },
    announce(tx: Db, channel, incident, note) {
      const text = stakeholderText(incident, note);
      return createOutboxRepository(tx).enqueue(
        {
          method: "chat.postMessage",
          channel,
          payload: { text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] },
        },
        clock.now(),
      );
    },
    handOver(tx: Db, card, by) {
      // Addressed to the user: the transport opens the DM (conversations.open) when it delivers.
      return createOutboxRepository(tx).enqueue(
        {
          method: "chat.postMessage",
          channel: card.incident.assignee as string,
          payload: { ...handOverMessage(card, by) },
        },
        clock.now(),
      );
    },
    async postCharts(tx: Db, incident, charts) {
      const outbox = createOutboxRepository(tx);
      const ids: number[] = [];
      for (const [i, chart] of charts.entries())
        ids.push(
          await outbox.enqueue(
            chartMessage(
              incident.channel,
              incident.cardOutboxId ?? undefined,
              chart,
              `${formatRef(incident.id)}-${i + 1}`,
            ),
            clock.now(),
          ),
        );
      return ids;
    },
    postFile(tx: Db, incident, file) {
      return createOutboxRepository(tx).enqueue(
        {
          method: "files.uploadV2",
          channel: incident.channel,
          parentId: incident.cardOutboxId ?? undefined,
          payload: {
            filename: file.filename,
            title: file.title,
            content: file.content,
            ...(file.comment ? { initial_comment: file.comment } : {}),
          },
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
