import type { App } from "@slack/bolt";
import type { EscalationService } from "../../escalation/index.js";
import { IncidentError } from "../../incidents/index.js";
import type { Logger } from "../../shared/logger.js";
import { ACTION_IDS } from "../action-ids.js";
import { parseButtonClick } from "../interactions.js";

/** What the listeners call. */
export interface EscalationListenerDeps {
  escalation: EscalationService;
  /** Tells one person something (an ephemeral through the outbox) when a click fails. */
  tell(to: { channel: string; user: string }, text: string): Promise<void>;
  /** Called after an escalation so its page goes out before the next tick. */
  poke(): void;
  logger: Logger;
}

interface Click {
  user: string;
  channel: string;
  incidentId: number;
  tier: number | undefined;
}

/** The buttons carry `<incident id>` or `<incident id>:<tier shown>` as their value. */
function parseClick(body: unknown): Click | undefined {
  const click = parseButtonClick(body);
  if (!click || !/^\d{1,9}(:[1-3])?$/.test(click.value)) return undefined;
  const [id, tier] = click.value.split(":");
  if (!id) return undefined;
  return {
    user: click.user,
    channel: click.channel,
    incidentId: Number(id),
    tier: tier ? Number(tier) : undefined,
  };
}

/**
 * The Escalate button (on the card and in page DMs) and the page's Acknowledge button. Each
 * validates the payload, calls one service, and acknowledges only after the change committed.
 */
export function registerEscalationListeners(app: App, deps: EscalationListenerDeps): void {
  const { escalation, logger } = deps;

  async function handle(body: unknown, ack: () => Promise<void>, work: (c: Click) => Promise<void>) {
    const click = parseClick(body);
    try {
      if (!click) {
        logger.warn("ignored an escalation button click with an unexpected payload");
        return;
      }
      await work(click);
    } catch (err) {
      const known = err instanceof IncidentError;
      if (!known) logger.error({ err }, "escalation button failed");
      if (click) {
        const text = known ? err.message : "Something went wrong on our side; it has been logged.";
        await deps
          .tell({ channel: click.channel, user: click.user }, text)
          .catch((e: unknown) => logger.error({ err: e }, "could not tell the user about a failure"));
      }
    } finally {
      await ack();
    }
  }

  app.action(ACTION_IDS.incidentEscalate, async ({ ack, body }) => {
    await handle(body, ack, async (c) => {
      const result = await escalation.escalate({
        incidentId: c.incidentId,
        actor: c.user,
        via: "button",
        expectedTier: c.tier,
        replyTo: { channel: c.channel, user: c.user },
      });
      if (result.outcome === "done") deps.poke();
    });
  });

  app.action(ACTION_IDS.escalationAcknowledge, async ({ ack, body }) => {
    await handle(body, ack, async (c) => {
      await escalation.acknowledgePage({
        incidentId: c.incidentId,
        actor: c.user,
        replyTo: { channel: c.channel, user: c.user },
      });
    });
  });
}
