import type { App } from "@slack/bolt";
import { z } from "zod";
import {
  formatRef,
  IncidentError,
  type IncidentService,
  type SilenceService,
} from "../../incidents/index.js";
import type { Logger } from "../../shared/logger.js";
import { ACTION_IDS, INPUT_IDS, VIEW_IDS } from "../action-ids.js";
import { resolveModal } from "../blocks/incident-modal.js";
import { type IdButtonClick, inputText, parseIdButtonClick, parseViewSubmission } from "../interactions.js";
import type { SlackApi } from "../web-api.js";

/** What the listeners call. */
export interface IncidentListenerDeps {
  incidents: IncidentService;
  silences: SilenceService;
  /** The Web API wrapper (for views.open; every message goes through the outbox). */
  api: () => SlackApi;
  logger: Logger;
}

const metadataSchema = z.object({ incidentId: z.number().int().positive(), channel: z.string().min(1) });

/**
 * Registers the incident card's buttons and the resolve modal. Each listener validates the
 * payload, calls one service (which writes the change, its timeline rows and its Slack writes in
 * one transaction) and only then acknowledges, so an acknowledged click is never lost.
 */
export function registerIncidentListeners(app: App, deps: IncidentListenerDeps): void {
  const { incidents, silences, logger } = deps;

  /** Runs a click's work; any failure is logged and told to the clicker, and the click is acknowledged. */
  async function handleClick(
    body: unknown,
    ack: () => Promise<void>,
    work: (click: IdButtonClick) => Promise<void>,
  ) {
    const click = parseIdButtonClick(body);
    try {
      if (!click) {
        logger.warn("ignored an incident button click with an unexpected payload");
        return;
      }
      await work(click);
    } catch (err) {
      const known = err instanceof IncidentError;
      if (!known) logger.error({ err }, "incident button failed");
      if (click) {
        const text = known ? err.message : "Something went wrong on our side; it has been logged.";
        await incidents
          .tell({ channel: click.channel, user: click.user }, text)
          .catch((e: unknown) => logger.error({ err: e }, "could not tell the user about a failure"));
      }
    } finally {
      await ack();
    }
  }

  app.action(ACTION_IDS.incidentAcknowledge, async ({ ack, body }) => {
    await handleClick(body, ack, async (c) => {
      await incidents.act({
        incidentId: c.id,
        action: "acknowledge",
        actor: c.user,
        via: "button",
        replyTo: { channel: c.channel, user: c.user },
      });
    });
  });

  app.action(ACTION_IDS.incidentSilence1h, async ({ ack, body }) => {
    await handleClick(body, ack, async (c) => {
      await silences.create({
        target: { kind: "incident", incidentId: c.id },
        durationMs: 3_600_000,
        reason: "Silenced for 1h from the incident card",
        actor: c.user,
        via: "button",
        replyTo: { channel: c.channel, user: c.user },
      });
    });
  });

  app.action(ACTION_IDS.incidentResolve, async ({ ack, body }) => {
    let open: { triggerId: string; incident: { id: number; title: string }; channel: string } | undefined;
    await handleClick(body, ack, async (c) => {
      const replyTo = { channel: c.channel, user: c.user };
      const check = await incidents.precheck({
        incidentId: c.id,
        action: "resolve",
        actor: c.user,
        via: "button",
        replyTo,
      });
      if (!check.allowed) return;
      if (check.incident.state === "resolved") {
        await incidents.tell(replyTo, `${formatRef(check.incident.id)} is already resolved.`);
        return;
      }
      open = { triggerId: c.triggerId, incident: check.incident, channel: c.channel };
    });
    if (!open) return;
    const { triggerId, incident, channel } = open;
    try {
      await deps.api().call("views.open", {
        trigger_id: triggerId,
        view: resolveModal(incident, { incidentId: incident.id, channel }),
      });
    } catch (err) {
      logger.warn({ err, incident: incident.id }, "could not open the resolve dialog");
    }
  });

  app.view(VIEW_IDS.incidentResolve, async ({ ack, body }) => {
    const submission = parseViewSubmission(body, metadataSchema);
    if (!submission) {
      logger.warn("ignored a resolve dialog submission with an unexpected payload");
      await ack();
      return;
    }
    const note = inputText(submission.values, INPUT_IDS.resolutionBlock, INPUT_IDS.resolutionNote);
    if (!note) {
      await ack({ response_action: "errors", errors: { [INPUT_IDS.resolutionBlock]: "Say what fixed it." } });
      return;
    }
    try {
      const result = await incidents.act({
        incidentId: submission.meta.incidentId,
        action: "resolve",
        actor: submission.user,
        via: "modal",
        note: note.slice(0, 2000),
      });
      if (result.outcome === "done") await ack();
      else await ack({ response_action: "errors", errors: { [INPUT_IDS.resolutionBlock]: result.message } });
    } catch (err) {
      if (!(err instanceof IncidentError)) logger.error({ err }, "resolving from the dialog failed");
      const text =
        err instanceof IncidentError ? err.message : "Something went wrong on our side; it has been logged.";
      await ack({ response_action: "errors", errors: { [INPUT_IDS.resolutionBlock]: text } });
    }
  });
}
