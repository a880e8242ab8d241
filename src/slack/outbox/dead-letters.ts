import type { App } from "@slack/bolt";
import type { KnownBlock } from "@slack/types";
import type { AccessControl } from "../../access/index.js";
import { describePrincipals } from "../../access/index.js";
import { type AuditLog, createAuditRepository } from "../../audit/index.js";
import type { MlopsConfig } from "../../config/index.js";
import type { Db } from "../../db/index.js";
import {
  createOutboxRepository,
  type OutboxPause,
  type OutboxRepository,
  type OutboxRow,
} from "../../outbox/index.js";
import type { Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import { escapeMrkdwn } from "../../shared/text.js";
import { ACTION_IDS } from "../action-ids.js";
import type { Subcommand } from "../commands/types.js";
import { parseButtonClick } from "../interactions.js";

/** What `/mlops outbox` and its buttons use. */
export interface DeadLetterDeps {
  config: MlopsConfig;
  access: AccessControl;
  audit: AuditLog;
  db: Db;
  outbox: OutboxRepository;
  clock: Clock;
  logger: Logger;
  /** The dispatcher's pause, if any (shown above the list). */
  paused: () => OutboxPause | undefined;
  /** A retried row is due now: look at once. */
  wake: () => void;
}

const SHOWN = 20;

/**
 * `manage_outbox` is workspace-wide, so `owners` there means the owners of any model: the check
 * passes when some model's owners include the person.
 */
async function mayManage(deps: DeadLetterDeps, userId: string): Promise<boolean> {
  if ((await deps.access.can(userId, "manage_outbox")).allowed) return true;
  if (!deps.config.workspace.permissions.manage_outbox.includes("owners")) return false;
  for (const m of deps.config.models)
    if ((await deps.access.can(userId, "manage_outbox", m.slug)).allowed) return true;
  return false;
}

function refusal(deps: DeadLetterDeps): string {
  const principals = deps.config.workspace.permissions.manage_outbox;
  const who = describePrincipals(
    deps.config,
    principals.filter((p) => p !== "owners"),
  );
  const owners = principals.includes("owners") ? " or a model's owners" : "";
  return `Only ${who}${owners} may manage the outbox.`;
}

function preview(row: OutboxRow): string {
  const text = typeof row.payload.text === "string" ? row.payload.text : row.method;
  const line = text.split("\n")[0] ?? "";
  return escapeMrkdwn(line.length > 80 ? `${line.slice(0, 79)}…` : line);
}

/** The list: one section per dead letter with its last error, and Retry / Drop buttons. */
async function listReply(
  deps: DeadLetterDeps,
  note?: string,
): Promise<{ text: string; blocks: KnownBlock[] }> {
  const [rows, total] = await Promise.all([deps.outbox.deadLetters(SHOWN), deps.outbox.countDeadLetters()]);
  const pause = deps.paused();
  const head = [
    note,
    pause
      ? `:warning: Delivery is paused: Slack answers \`${pause.code}\` since ${pause.since.toISOString()}. ${pause.fix}.`
      : undefined,
    total === 0
      ? "No undeliverable Slack writes."
      : `${total} undeliverable Slack write${total === 1 ? "" : "s"}${total > rows.length ? ` (newest ${rows.length} shown)` : ""}.`,
  ]
    .filter(Boolean)
    .join("\n");
  const blocks: KnownBlock[] = [{ type: "section", text: { type: "mrkdwn", text: head } }];
  for (const row of rows) {
    const why = row.state === "dead" ? "gave up" : "refused by Slack";
    blocks.push(
      {
        type: "section",
        block_id: `outbox_row:${row.id}`,
        text: {
          type: "mrkdwn",
          text: `*#${row.id}* \`${row.method}\` to \`${escapeMrkdwn(row.channel)}\`: ${preview(row)}\n${why} after ${row.attempts} attempt${row.attempts === 1 ? "" : "s"}: ${escapeMrkdwn((row.lastError ?? "").slice(0, 200))}`,
        },
      },
      {
        type: "actions",
        block_id: `outbox_dead:${row.id}`,
        elements: [
          {
            type: "button",
            action_id: ACTION_IDS.outboxRetry,
            text: { type: "plain_text", text: "Retry" },
            value: String(row.id),
          },
          {
            type: "button",
            action_id: ACTION_IDS.outboxDrop,
            text: { type: "plain_text", text: "Drop" },
            style: "danger",
            value: String(row.id),
          },
        ],
      },
    );
  }
  return { text: head, blocks };
}

/** `/mlops outbox`: the dead letters (L2 and owners by default). */
export function outboxCommand(deps: DeadLetterDeps): Subcommand {
  return {
    name: "outbox",
    usage: "",
    summary: "Slack writes that could not be delivered, with Retry and Drop buttons",
    async run(ctx) {
      if (!(await mayManage(deps, ctx.userId))) return { text: refusal(deps) };
      return listReply(deps);
    },
  };
}

/** The Retry and Drop buttons of the list; each is checked, applied, audited, and the list redrawn. */
export function registerDeadLetterListeners(app: App, deps: DeadLetterDeps): void {
  const { logger } = deps;
  for (const action of ["retry", "drop"] as const) {
    const actionId = action === "retry" ? ACTION_IDS.outboxRetry : ACTION_IDS.outboxDrop;
    app.action(actionId, async ({ ack, body, respond }) => {
      await ack();
      const click = parseButtonClick(body);
      const id = click && /^\d{1,15}$/.test(click.value) ? Number(click.value) : undefined;
      if (!click || id === undefined) {
        logger.warn({ action }, "ignored an outbox button click with an unexpected payload");
        return;
      }
      try {
        if (!(await mayManage(deps, click.user))) {
          await deps.audit.record({
            source: "slack",
            actor: click.user,
            action: `outbox.${action}`,
            target: `outbox:${id}`,
            outcome: "refused",
          });
          await respond({ response_type: "ephemeral", replace_original: false, text: refusal(deps) });
          return;
        }
        // The change and its audit record commit together.
        const row = await deps.db.transaction(async (tx) => {
          const outbox = createOutboxRepository(tx);
          const changed =
            action === "retry" ? await outbox.retryDead(id, deps.clock.now()) : await outbox.dropDead(id);
          if (changed)
            await createAuditRepository(tx).record({
              source: "slack",
              actor: click.user,
              action: `outbox.${action}`,
              target: `outbox:${id}`,
              outcome: "ok",
              detail: { method: changed.method, channel: changed.channel, last_error: changed.lastError },
            });
          return changed;
        });
        if (row && action === "retry") deps.wake();
        const note = row
          ? action === "retry"
            ? `<@${click.user}> queued #${id} again.`
            : `<@${click.user}> dropped #${id}.`
          : `#${id} is no longer undeliverable (someone retried or dropped it).`;
        await respond({ replace_original: true, ...(await listReply(deps, note)) });
      } catch (err) {
        logger.error({ err, action, outboxId: id }, "outbox button failed");
        await respond({
          response_type: "ephemeral",
          replace_original: false,
          text: "Something went wrong on our side; it has been logged.",
        }).catch(() => {});
      }
    });
  }
}
