import type { App } from "@slack/bolt";
import { z } from "zod";
import { IncidentError } from "../../incidents/index.js";
import { type PreparedRun, RunbookError, type RunbookService } from "../../runbooks/index.js";
import type { Logger } from "../../shared/logger.js";
import { ACTION_IDS, INPUT_IDS, VIEW_IDS } from "../action-ids.js";
import { parseButtonClick, parseViewSubmission } from "../interactions.js";
import type { SlackApi } from "../web-api.js";
import { type ConfirmMetadata, confirmModal } from "./blocks.js";

/** What the listeners call. */
export interface RunbookListenerDeps {
  runbooks: RunbookService;
  /** An ephemeral through the outbox. */
  tell: (to: { channel: string; user: string }, text: string) => Promise<void>;
  api: () => SlackApi;
  logger: Logger;
}

const metadataSchema = z.object({
  name: z.string().min(1).max(80),
  incidentId: z.number().int().positive().nullable(),
  channel: z.string().min(1),
});

/** Opens the confirm modal of a prepared run. */
export async function openConfirm(api: SlackApi, triggerId: string, prepared: PreparedRun, channel: string) {
  const meta: ConfirmMetadata = {
    name: prepared.runbook.name,
    incidentId: prepared.incident?.id ?? null,
    channel,
  };
  await api.call("views.open", {
    trigger_id: triggerId,
    view: confirmModal(prepared.runbook, prepared.values, meta),
  });
}

/**
 * Registers the card's runbook buttons (`incident_runbook:<name>`) and the confirm modal. A click
 * is checked (runbook, incident, permission, parameters) before anything runs; a `confirm: true`
 * runbook opens the modal with its parameters first, the others start at once. Every refusal and
 * error is told to the clicker as an ephemeral.
 */
export function registerRunbookListeners(app: App, deps: RunbookListenerDeps): void {
  const { runbooks, logger } = deps;

  async function told(to: { channel: string; user: string }, err: unknown) {
    const known = err instanceof RunbookError || err instanceof IncidentError;
    if (!known) logger.error({ err }, "runbook action failed");
    const text = known ? (err as Error).message : "Something went wrong on our side; it has been logged.";
    await deps
      .tell(to, text)
      .catch((e: unknown) => logger.error({ err: e }, "could not tell the user about a failure"));
  }

  app.action(
    new RegExp(`^${ACTION_IDS.incidentRunbookPrefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`),
    async ({ ack, body }) => {
      const click = parseButtonClick(body);
      if (
        !click?.triggerId ||
        !click.actionId?.startsWith(ACTION_IDS.incidentRunbookPrefix) ||
        !/^\d{1,9}$/.test(click.value)
      ) {
        logger.warn("ignored a runbook button click with an unexpected payload");
        await ack();
        return;
      }
      const { channel, user, triggerId } = click;
      const name = click.actionId.slice(ACTION_IDS.incidentRunbookPrefix.length);
      const req = {
        name,
        incidentId: Number(click.value),
        given: {},
        actor: user,
        via: "button" as const,
        channel,
      };
      let confirm: PreparedRun | undefined;
      try {
        const prepared = await runbooks.prepare(req);
        if (!("refused" in prepared)) {
          if (prepared.runbook.confirm) confirm = prepared;
          else await runbooks.start(prepared, req);
        }
      } catch (err) {
        await told({ channel, user }, err);
      } finally {
        await ack();
      }
      if (!confirm) return;
      try {
        await openConfirm(deps.api(), triggerId, confirm, channel);
      } catch (err) {
        logger.warn({ err, runbook: name }, "could not open the runbook confirm dialog");
        await deps
          .tell(
            { channel, user },
            `Could not open the confirmation for \`${name}\`; try \`/mlops runbook run ${name} INC-${click.value}\`.`,
          )
          .catch(() => {});
      }
    },
  );

  app.view(VIEW_IDS.runbookConfirm, async ({ ack, body }) => {
    const submission = parseViewSubmission(body, metadataSchema);
    if (!submission) {
      logger.warn("ignored a runbook confirm submission with an unexpected payload");
      await ack();
      return;
    }
    const meta = submission.meta;
    const given: Record<string, string> = {};
    for (const [blockId, inputs] of Object.entries(submission.values)) {
      if (!blockId.startsWith(INPUT_IDS.runbookParamPrefix)) continue;
      const value = inputs[blockId]?.value;
      if (typeof value === "string") given[blockId.slice(INPUT_IDS.runbookParamPrefix.length)] = value;
    }
    const user = submission.user;
    const req = {
      name: meta.name,
      incidentId: meta.incidentId ?? undefined,
      given,
      actor: user,
      via: "modal" as const,
      channel: meta.channel,
    };
    try {
      const prepared = await runbooks.prepare(req);
      if ("refused" in prepared) {
        await ack();
        return;
      }
      await runbooks.start(prepared, req);
      await ack();
    } catch (err) {
      if (err instanceof RunbookError && err.code === "runbook_invalid_params") {
        // Point at the fields that are wrong; nothing ran.
        const errors: Record<string, string> = {};
        for (const [key, problem] of Object.entries(err.problems))
          errors[`${INPUT_IDS.runbookParamPrefix}${key}`] = problem;
        if (Object.keys(errors).length) {
          await ack({ response_action: "errors", errors });
          return;
        }
      }
      await ack();
      await told({ channel: meta.channel, user }, err);
    }
  });
}
