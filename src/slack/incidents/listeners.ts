import type { App } from "@slack/bolt";
import type { View } from "@slack/types";
import { z } from "zod";
import {
  formatRef,
  IncidentError,
  type IncidentService,
  type OwnerService,
  type SilenceService,
} from "../../incidents/index.js";
import type { Logger } from "../../shared/logger.js";
import type { Severity } from "../../shared/severity.js";
import { ACTION_IDS, INPUT_IDS, VIEW_IDS } from "../action-ids.js";
import { resolveModal, updateModal } from "../blocks/incident-modal.js";
import {
  type IdButtonClick,
  inputText,
  parseIdButtonClick,
  parseSelectChoice,
  parseViewSubmission,
  type ViewSubmission,
} from "../interactions.js";
import type { SlackApi } from "../web-api.js";

/** What the listeners call. */
export interface IncidentListenerDeps {
  incidents: IncidentService;
  silences: SilenceService;
  owners: OwnerService;
  /** The Web API wrapper (for views.open; every message goes through the outbox). */
  api: () => SlackApi;
  logger: Logger;
}

const metadataSchema = z.object({ incidentId: z.number().int().positive(), channel: z.string().min(1) });

/**
 * Registers the incident card's buttons and its resolve and update dialogs. Each listener validates the
 * payload, calls one service (which writes the change, its timeline rows and its Slack writes in
 * one transaction) and only then acknowledges, so an acknowledged click is never lost.
 */
export function registerIncidentListeners(app: App, deps: IncidentListenerDeps): void {
  const { incidents, silences, owners, logger } = deps;

  /**
   * Runs the work of an action whose payload parsed (`undefined`: it did not, and is ignored); any
   * failure is logged and told to the person, and the action is acknowledged.
   */
  async function handleAction<T extends { channel: string; user: string }>(
    action: T | undefined,
    ack: () => Promise<void>,
    work: (action: T) => Promise<void>,
  ) {
    try {
      if (!action) {
        logger.warn("ignored an incident card action with an unexpected payload");
        return;
      }
      await work(action);
    } catch (err) {
      const known = err instanceof IncidentError;
      if (!known) logger.error({ err }, "incident card action failed");
      if (action) {
        const text = known ? err.message : "Something went wrong on our side; it has been logged.";
        await incidents
          .tell({ channel: action.channel, user: action.user }, text)
          .catch((e: unknown) => logger.error({ err: e }, "could not tell the user about a failure"));
      }
    } finally {
      await ack();
    }
  }

  /** A button whose value is the incident id. */
  function handleClick(
    body: unknown,
    ack: () => Promise<void>,
    work: (click: IdButtonClick) => Promise<void>,
  ) {
    return handleAction(parseIdButtonClick(body), ack, work);
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

  app.action(ACTION_IDS.incidentTake, async ({ ack, body }) => {
    await handleClick(body, ack, async (c) => {
      await owners.take({
        incidentId: c.id,
        actor: c.user,
        via: "button",
        replyTo: { channel: c.channel, user: c.user },
      });
    });
  });

  // The card's severity select: value `<incident id>:<level>`; the service checks who chose it. A
  // refusal or "already" is told as an ephemeral; a change shows on the card and in the thread.
  app.action(ACTION_IDS.incidentSeverity, async ({ ack, body }) => {
    const choice = parseSelectChoice(body);
    const m = choice && /^(\d{1,9}):(critical|warning|info)$/.exec(choice.value);
    const parsed = choice && m ? { ...choice, id: Number(m[1]), to: m[2] as Severity } : undefined;
    await handleAction(parsed, ack, async (c) => {
      await owners.severity({
        incidentId: c.id,
        to: c.to,
        actor: c.user,
        via: "button",
        replyTo: { channel: c.channel, user: c.user },
      });
    });
  });

  /**
   * A button that opens a dialog once `allowed` says so (it tells the person otherwise); the
   * dialog carries the incident and channel back on submit.
   */
  function dialogButton(
    actionId: string,
    what: string,
    allowed: (c: IdButtonClick) => Promise<{ id: number; title: string } | undefined>,
    view: (incident: { id: number; title: string }, meta: { incidentId: number; channel: string }) => View,
  ) {
    app.action(actionId, async ({ ack, body }) => {
      let open: { triggerId: string; incident: { id: number; title: string }; channel: string } | undefined;
      await handleClick(body, ack, async (c) => {
        const incident = await allowed(c);
        if (incident) open = { triggerId: c.triggerId, incident, channel: c.channel };
      });
      if (!open) return;
      const { triggerId, incident, channel } = open;
      try {
        await deps.api().call("views.open", {
          trigger_id: triggerId,
          view: view(incident, { incidentId: incident.id, channel }),
        });
      } catch (err) {
        logger.warn({ err, incident: incident.id }, `could not open the ${what} dialog`);
      }
    });
  }

  /**
   * A dialog's submission: the text of its required input goes to `submit`; an empty one, a
   * refusal or a known error is shown in the dialog at that input and the dialog stays open.
   */
  function dialogSubmission(
    viewId: string,
    what: string,
    input: { block: string; action: string; empty: string },
    submit: (
      submission: ViewSubmission<z.infer<typeof metadataSchema>>,
      text: string,
    ) => Promise<{ outcome: string; message: string }>,
  ) {
    app.view(viewId, async ({ ack, body }) => {
      const submission = parseViewSubmission(body, metadataSchema);
      if (!submission) {
        logger.warn(`ignored a ${what} dialog submission with an unexpected payload`);
        await ack();
        return;
      }
      const text = inputText(submission.values, input.block, input.action);
      if (!text) {
        await ack({ response_action: "errors", errors: { [input.block]: input.empty } });
        return;
      }
      try {
        const result = await submit(submission, text);
        if (result.outcome === "done") await ack();
        else await ack({ response_action: "errors", errors: { [input.block]: result.message } });
      } catch (err) {
        if (!(err instanceof IncidentError)) logger.error({ err }, `the ${what} dialog failed`);
        const message =
          err instanceof IncidentError
            ? err.message
            : "Something went wrong on our side; it has been logged.";
        await ack({ response_action: "errors", errors: { [input.block]: message } });
      }
    });
  }

  dialogButton(
    ACTION_IDS.incidentResolve,
    "resolve",
    async (c) => {
      const replyTo = { channel: c.channel, user: c.user };
      const check = await incidents.precheck({
        incidentId: c.id,
        action: "resolve",
        actor: c.user,
        via: "button",
        replyTo,
      });
      if (!check.allowed) return undefined;
      if (check.incident.state === "resolved") {
        await incidents.tell(replyTo, `${formatRef(check.incident.id)} is already resolved.`);
        return undefined;
      }
      return check.incident;
    },
    resolveModal,
  );

  dialogSubmission(
    VIEW_IDS.incidentResolve,
    "resolve",
    { block: INPUT_IDS.resolutionBlock, action: INPUT_IDS.resolutionNote, empty: "Say what fixed it." },
    (submission, note) =>
      incidents.act({
        incidentId: submission.meta.incidentId,
        action: "resolve",
        actor: submission.user,
        via: "modal",
        note: note.slice(0, 2000),
      }),
  );

  dialogButton(
    ACTION_IDS.incidentUpdate,
    "update",
    async (c) => {
      const replyTo = { channel: c.channel, user: c.user };
      const check = await owners.precheckUpdate({ incidentId: c.id, actor: c.user, via: "button", replyTo });
      return check.allowed ? check.incident : undefined;
    },
    updateModal,
  );

  dialogSubmission(
    VIEW_IDS.incidentUpdate,
    "update",
    { block: INPUT_IDS.updateKnownBlock, action: INPUT_IDS.updateKnown, empty: "Say what is known so far." },
    (submission, known) =>
      owners.update({
        incidentId: submission.meta.incidentId,
        actor: submission.user,
        via: "modal",
        update: {
          known: known.slice(0, 2000),
          next:
            inputText(submission.values, INPUT_IDS.updateNextBlock, INPUT_IDS.updateNext).slice(0, 500) ||
            undefined,
        },
      }),
  );
}
