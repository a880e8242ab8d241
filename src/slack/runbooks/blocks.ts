import type { KnownBlock, View } from "@slack/types";
import { formatRef } from "../../incidents/index.js";
import type { ParamValue, Runbook, RunbookRun } from "../../runbooks/index.js";
import { formatDuration } from "../../shared/duration.js";
import { escapeMrkdwn } from "../../shared/text.js";
import { ACTION_IDS, INPUT_IDS, VIEW_IDS } from "../action-ids.js";
import { clip, who } from "../blocks/incident-format.js";

/** A message as the outbox stores it. */
export interface RunMessage {
  text: string;
  blocks: KnownBlock[];
}

const STATUS_LINE: Record<RunbookRun["status"], string> = {
  running: ":hourglass_flowing_sand: running",
  succeeded: ":white_check_mark: succeeded",
  failed: ":x: failed",
  timed_out: ":alarm_clock: timed out",
  interrupted: ":warning: interrupted",
};

/** The characters of output shown in the message; the rest goes into a file. */
export const OUTPUT_TAIL_CHARS = 2500;

function codeBlock(text: string): string {
  // Backticks in output would end the block early; a zero-width joiner keeps them visible.
  return `\`\`\`${text.replace(/```/g, "`\u200d``")}\`\`\``;
}

function paramsText(params: Record<string, ParamValue>): string {
  const entries = Object.entries(params);
  if (!entries.length) return "";
  return entries.map(([k, v]) => `\`${k}\`=${escapeMrkdwn(clip(String(v), 120))}`).join(" · ");
}

/**
 * The progress message of a run, updated in place: running → the result with exit code,
 * duration and the output's tail, then the verify result and, when it passed, Resolve.
 */
export function runProgressMessage(
  run: RunbookRun,
  runbook: Pick<Runbook, "name" | "title"> | undefined,
  incident: { id: number; state: string } | null,
): RunMessage {
  const title = runbook?.title ?? run.runbook;
  const head = `*${escapeMrkdwn(clip(title, 150))}* (\`${run.runbook}\`, run ${run.id}) ${STATUS_LINE[run.status]}`;
  const lines = [
    head,
    `Started by ${who(run.actor)}${run.incidentId ? ` for ${formatRef(run.incidentId)}` : ""}`,
  ];
  const params = paramsText(run.params);
  if (params) lines.push(`Parameters: ${params}`);
  if (run.status !== "running") {
    const facts = [
      run.exitCode !== null
        ? `exit code *${run.exitCode}*`
        : run.signal
          ? `killed by ${run.signal}`
          : "no exit code",
      run.durationMs !== null ? `took ${formatDuration(run.durationMs)}` : "",
    ].filter(Boolean);
    lines.push(facts.join(" · "));
  }
  if (run.status === "interrupted")
    lines.push("The bot stopped while this ran, so its result is unknown. Check before running it again.");
  const blocks: KnownBlock[] = [{ type: "section", text: { type: "mrkdwn", text: lines.join("\n") } }];
  if (run.status !== "running" && run.output) {
    const tail =
      run.output.length > OUTPUT_TAIL_CHARS ? `…${run.output.slice(-OUTPUT_TAIL_CHARS)}` : run.output;
    blocks.push({ type: "section", text: { type: "mrkdwn", text: codeBlock(tail) } });
    if (run.output.length > OUTPUT_TAIL_CHARS || run.outputOmitted)
      blocks.push({
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: `Showing the last ${OUTPUT_TAIL_CHARS} characters; the full output is attached below${run.outputOmitted ? ` (${run.outputOmitted} bytes in the middle were not kept)` : ""}.`,
          },
        ],
      });
  }
  if (run.verify) {
    const verifyText =
      run.verify === "passed"
        ? ":large_green_circle: *Verify passed*: the problem looks gone."
        : `:red_circle: *Verify failed* (exit code ${run.verifyExitCode ?? "none"}): the problem is still there.`;
    const tail = run.verifyOutput?.trim()
      ? `\n${codeBlock(clip(run.verifyOutput.trim().slice(-600), 600))}`
      : "";
    blocks.push({ type: "section", text: { type: "mrkdwn", text: `${verifyText}${tail}` } });
    if (run.verify === "passed" && incident && incident.state !== "resolved") {
      blocks.push({
        type: "actions",
        block_id: `runbook_run_${run.id}`,
        elements: [
          {
            type: "button",
            action_id: ACTION_IDS.incidentResolve,
            text: { type: "plain_text", text: `Resolve ${formatRef(incident.id)}` },
            style: "primary",
            value: String(incident.id),
          },
        ],
      });
    }
  }
  const text = `Runbook ${run.runbook} (run ${run.id}): ${run.status}${run.exitCode !== null && run.status !== "running" ? `, exit code ${run.exitCode}` : ""}${run.verify ? `, verify ${run.verify}` : ""}`;
  return { text, blocks };
}

/** `/mlops runbook list`: each runbook with what it does and when it applies. */
export function runbookListBlocks(runbooks: readonly Runbook[], model: string | undefined): KnownBlock[] {
  const heading = `*Runbooks${model ? ` for ${escapeMrkdwn(model)}` : ""}* (${runbooks.length})`;
  const blocks: KnownBlock[] = [{ type: "section", text: { type: "mrkdwn", text: heading } }];
  for (const r of runbooks.slice(0, 40)) {
    const when = [
      r.when.models.length ? `models ${r.when.models.join(", ")}` : "",
      r.when.monitors.length ? `monitors ${r.when.monitors.join(", ")}` : "",
    ].filter(Boolean);
    const params = Object.entries(r.params).map(
      ([k, p]) =>
        `${k}${p.default !== undefined ? `=${String(p.default)}` : p.from_model ? `=<model ${p.from_model}>` : ""}`,
    );
    const lines = [
      `*\`${r.name}\`* · ${escapeMrkdwn(r.title)}${r.confirm ? " · asks to confirm" : ""}${r.verify ? " · verifies" : ""}`,
      escapeMrkdwn(clip(r.description, 400)),
      `When: ${when.length ? when.join("; ") : "any incident"} · timeout ${formatDuration(r.timeout)}${params.length ? ` · params: ${escapeMrkdwn(params.join(" "))}` : ""}`,
    ];
    blocks.push({ type: "section", text: { type: "mrkdwn", text: clip(lines.join("\n"), 2900) } });
  }
  if (!runbooks.length)
    blocks.push({ type: "section", text: { type: "mrkdwn", text: "No runbooks apply." } });
  return blocks;
}

/** What the confirm modal carries back on submit. */
export interface ConfirmMetadata {
  name: string;
  incidentId: number | null;
  channel: string;
}

/** The modal a `confirm: true` runbook opens first: what it does and its parameters (editable unless fixed to the model). */
export function confirmModal(
  runbook: Runbook,
  values: Record<string, ParamValue>,
  meta: ConfirmMetadata,
): View {
  const blocks: KnownBlock[] = [
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*${escapeMrkdwn(runbook.title)}*${meta.incidentId ? ` for ${formatRef(meta.incidentId)}` : ""}\n${escapeMrkdwn(clip(runbook.description, 1500))}`,
      },
    },
  ];
  for (const [key, spec] of Object.entries(runbook.params)) {
    const id = `${INPUT_IDS.runbookParamPrefix}${key}`;
    const initial = values[key] !== undefined ? String(values[key]) : "";
    if (spec.from_model && !spec.overridable) {
      // Fixed to the model's config: shown, not editable (the service refuses another value anyway).
      blocks.push({
        type: "section",
        text: {
          type: "mrkdwn",
          text: `*${escapeMrkdwn(clip(key, 100))}*: \`${escapeMrkdwn(clip(initial, 500))}\` (the model's ${spec.from_model})`,
        },
      });
      continue;
    }
    blocks.push({
      type: "input",
      block_id: id,
      optional: !spec.required,
      label: { type: "plain_text", text: clip(key, 2000) },
      ...(spec.description
        ? { hint: { type: "plain_text" as const, text: clip(spec.description, 2000) } }
        : {}),
      element: {
        type: "plain_text_input",
        action_id: id,
        ...(initial ? { initial_value: clip(initial, 3000) } : {}),
        max_length: spec.type === "string" || spec.type === "url" ? spec.max_length : 100,
      },
    });
  }
  return {
    type: "modal",
    callback_id: VIEW_IDS.runbookConfirm,
    private_metadata: JSON.stringify(meta),
    title: { type: "plain_text", text: "Run runbook?" },
    submit: { type: "plain_text", text: "Run" },
    close: { type: "plain_text", text: "Cancel" },
    blocks,
  };
}
