/** Block Kit for retraining: the approval card, thread notes, the live comparison, the reject modal. */
import type { KnownBlock, View } from "@slack/types";
import {
  type AliasMoved,
  type CanaryComparison,
  type Candidate,
  type CandidateCard,
  fmtP,
  formatRequestRef,
  type ModelRollout,
  type RegistryLookup,
  type RetrainingNote,
  type RuleSnapshot,
} from "../../retraining/index.js";
import { escapeMrkdwn } from "../../shared/text.js";
import { ACTION_IDS, INPUT_IDS, VIEW_IDS } from "../action-ids.js";
import { clip, slackDate, who } from "../blocks/incident-format.js";

/** A number for people: four significant digits. */
function num(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(4))) : "—";
}

function signed(x: number): string {
  return `${x > 0 ? "+" : x < 0 ? "−" : "±"}${num(Math.abs(x))}`;
}

const STATE_LINE: Record<Candidate["state"], string> = {
  pending_approval: ":hourglass_flowing_sand: Waiting for approval",
  rejected: ":no_entry: Rejected",
  expired: ":zzz: Expired without a decision",
  canary_starting: ":rocket: Approved; starting the canary",
  canary: ":bird: In canary",
  promoting: ":arrow_up: Promoting",
  promoted: ":trophy: Promoted to champion",
  rolling_back: ":leftwards_arrow_with_hook: Rolling back",
  rolled_back: ":leftwards_arrow_with_hook: Rolled back",
  failed: ":x: Deploy failed",
};

/** The approval card: champion against challenger per metric, the verdict, and Approve / Reject. */
export function candidateCard(card: CandidateCard): { text: string; blocks: KnownBlock[] } {
  const c = card.candidate;
  const rules = c.rules as unknown as RuleSnapshot;
  const lines = rules.checks.map(
    (k) =>
      `${k.passes ? ":white_check_mark:" : ":x:"} *${escapeMrkdwn(k.metric)}*${k.role === "primary" ? " (primary)" : ""}: ${num(k.champion)} → ${num(k.challenger)} (${signed(k.delta)}) · ${escapeMrkdwn(k.rule)}`,
  );
  const business = c.businessMetrics
    ? Object.entries(c.businessMetrics)
        .slice(0, 10)
        .map(([k, v]) => `\`${escapeMrkdwn(k)}\` ${num(v)}`)
        .join(" · ")
    : null;
  let state = STATE_LINE[c.state];
  if (c.state === "pending_approval")
    state += ` · ${card.status.approvers.length}/${c.approvalsRequired} approvals${card.status.missing ? `; needs ${card.status.missing}` : ""} · expires ${slackDate(c.expiresAt)}`;
  if (c.state === "rejected")
    state += ` by ${who(c.decidedBy)}${c.decisionNote ? `: ${escapeMrkdwn(clip(c.decisionNote, 300))}` : ""}`;
  if (c.state === "canary" || c.state === "canary_starting")
    state += ` at ${Math.round((c.canaryShare ?? 0) * 100)}% of traffic`;
  if (card.status.approvers.length && c.state !== "pending_approval")
    state += ` · approved by ${card.status.approvers.map(who).join(", ")}`;
  else if (card.status.approvers.length)
    state += ` · approved so far by ${card.status.approvers.map(who).join(", ")}`;

  const blocks: KnownBlock[] = [
    {
      type: "header",
      text: { type: "plain_text", text: clip(`Candidate ${c.model} ${c.version}`, 150) },
    },
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*${escapeMrkdwn(card.modelName)}*: challenger \`${escapeMrkdwn(c.version)}\` against champion \`${escapeMrkdwn(c.championVersion ?? "none")}\` on the same evaluation set.\n${lines.join("\n")}`,
      },
    },
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: `${rules.passes ? ":large_green_circle:" : ":red_circle:"} *Verdict:* ${escapeMrkdwn(rules.verdict)}`,
      },
    },
    {
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: clip(
            `Data ${c.dataWindow.from.slice(0, 10)} → ${c.dataWindow.to.slice(0, 10)} · <${c.runUrl ?? ""}|pipeline run> · artifact \`${escapeMrkdwn(clip(c.artifactUri, 120))}\`${c.retrainRequestId ? ` · ${formatRequestRef(c.retrainRequestId)} asked by ${who(c.requestedBy)}` : ""}${business ? `\nBusiness: ${business}` : ""}`,
            2900,
          ),
        },
      ],
    },
  ];
  const registry = registryLine(card.registry);
  if (registry) blocks.push({ type: "section", text: { type: "mrkdwn", text: registry } });
  blocks.push({ type: "section", text: { type: "mrkdwn", text: state } });
  if (c.state === "promoted" && card.rollbackable)
    blocks.push({
      type: "actions",
      block_id: `promoted:${c.id}`,
      elements: [
        {
          type: "button",
          action_id: ACTION_IDS.canaryRollback,
          text: { type: "plain_text", text: "Roll back" },
          style: "danger",
          value: String(c.id),
        },
      ],
    });
  if (c.state === "pending_approval") {
    const value = String(c.id);
    blocks.push({
      type: "actions",
      block_id: `candidate:${c.id}`,
      elements: [
        ...(rules.passes
          ? [
              {
                type: "button" as const,
                action_id: ACTION_IDS.retrainApprove,
                text: { type: "plain_text" as const, text: "Approve" },
                style: "primary" as const,
                value,
              },
            ]
          : []),
        {
          type: "button",
          action_id: ACTION_IDS.retrainReject,
          text: { type: "plain_text", text: "Reject" },
          style: "danger",
          value,
        },
      ],
    });
  }
  return {
    text: `Candidate ${c.model} ${c.version} vs ${c.championVersion ?? "none"}: ${STATE_LINE[c.state].replace(/^:[a-z_]+: /, "")}`,
    blocks,
  };
}

/** A thread note in words. */
export function noteText(note: RetrainingNote): string {
  switch (note.kind) {
    case "retrain_requested": {
      const r = note.request;
      return `:repeat: ${who(r.requestedBy)} asked to retrain *${escapeMrkdwn(note.modelName)}* (${formatRequestRef(r.id)}${note.incidentRef ? `, for ${note.incidentRef}` : ""})${r.reason ? `: ${escapeMrkdwn(clip(r.reason, 500))}` : ""}. Calling the pipeline…`;
    }
    case "pipeline_started":
      return `:gear: The pipeline of ${formatRequestRef(note.request.id)} is running${note.runUrl ? `: <${note.runUrl}|run>` : ""}. The candidate will be posted here for approval.`;
    case "pipeline_failed":
      return `:x: The pipeline of ${formatRequestRef(note.request.id)} could not be started: ${escapeMrkdwn(clip(note.error, 300))}. Nothing else was changed.`;
    case "approved":
      return note.status.satisfied
        ? `:white_check_mark: ${who(note.actor)} approved \`${note.candidate.version}\` (approvers: ${note.status.approvers.map(who).join(", ")}). Starting the canary at ${Math.round((note.candidate.canaryShare ?? 0) * 100)}% of traffic.`
        : `:ballot_box_with_check: ${who(note.actor)} approved \`${note.candidate.version}\`; it still needs ${note.status.missing}.`;
    case "rejected":
      return `:no_entry: ${who(note.actor)} rejected \`${note.candidate.version}\`: ${escapeMrkdwn(clip(note.reason || "no reason given", 500))}`;
    case "expired":
      return `:zzz: \`${note.candidate.version}\` expired without enough approvals; nothing was deployed.`;
    case "canary_started":
      return `:bird: Canary started: ${Math.round((note.candidate.canaryShare ?? 0) * 100)}% of traffic goes to \`${note.candidate.version}\`, the rest to \`${note.candidate.championVersion ?? "the champion"}\`. The comparison follows once both arms have enough predictions (or ask with \`/mlops canary ${note.candidate.model}\`).`;
    case "deploy_failed":
      return `:x: The deploy call to ${note.action === "canary" ? "start the canary" : note.action === "promote" ? "promote" : "roll back"} \`${note.candidate.version}\` failed: ${escapeMrkdwn(clip(note.error, 300))}. ${note.action === "canary" ? "No traffic was moved." : note.candidate.state === "promoted" ? "It stays the champion." : "The canary stays as it was."}`;
    case "promoted":
      return `:trophy: ${who(note.actor)} promoted \`${note.candidate.version}\`: it is the champion of \`${note.candidate.model}\` now (was \`${note.candidate.championVersion ?? "none"}\`).${aliasLine(note.registry)}`;
    case "rolled_back":
      return `:leftwards_arrow_with_hook: ${who(note.actor)} rolled back \`${note.candidate.version}\`; \`${note.candidate.championVersion ?? "the champion"}\` takes all traffic again.${aliasLine(note.registry)}`;
    case "registry_lookup_failed":
      return `:warning: Version \`${note.candidate.version}\` could not be looked up in the model registry: ${escapeMrkdwn(clip(note.error, 300))}. Promoting it would fail until the registry has it.`;
    case "registry_disagrees":
      return `:warning: *${escapeMrkdwn(note.modelName)}*: the registry's alias \`${escapeMrkdwn(note.alias)}\` points at version \`${escapeMrkdwn(note.registryVersion ?? "nothing")}\`, but the bot's champion is \`${escapeMrkdwn(note.botChampion ?? "none")}\`. Neither was changed: move the alias in MLflow, or set \`champion:\` in the config, whichever is right.`;
    case "registry_unreadable":
      return `:warning: The model registry of \`${escapeMrkdwn(note.model)}\` could not be read to check its champion: ${escapeMrkdwn(clip(note.error, 300))}.`;
  }
}

/** " MLflow alias `champion` of `fraud` → version `7`." (empty without a registry). */
function aliasLine(moved: AliasMoved | undefined): string {
  return moved
    ? ` The registry's alias \`${escapeMrkdwn(moved.alias)}\` of \`${escapeMrkdwn(moved.modelName)}\` points at version \`${escapeMrkdwn(moved.to)}\`.`
    : "";
}

/** The card's registry line: version, who trained it, the run, and the run's metrics. */
function registryLine(lookup: RegistryLookup | undefined): string | null {
  if (!lookup) return null;
  if (lookup.state === "pending") return ":hourglass: Looking the version up in the model registry…";
  if (lookup.state === "failed")
    return `:warning: Not found in the model registry: ${escapeMrkdwn(clip(lookup.error, 300))}`;
  const v = lookup.version;
  const metrics = Object.entries(v.metrics)
    .slice(0, 12)
    .map(([k, x]) => `\`${escapeMrkdwn(k)}\` ${num(x)}`)
    .join(" · ");
  return clip(
    `*MLflow* \`${escapeMrkdwn(v.modelName)}\` version ${escapeMrkdwn(v.version)} · trained by ${escapeMrkdwn(v.trainedBy ?? "unknown")} · <${v.runUrl}|MLflow run>${metrics ? `\nRun metrics: ${metrics}` : ""}`,
    2900,
  );
}

/** The live comparison of the two arms, with Promote / Roll back. */
export function comparisonBlocks(view: {
  candidate: Candidate;
  comparison: CanaryComparison;
  actions: boolean;
}): { text: string; blocks: KnownBlock[] } {
  const { candidate: c, comparison: k } = view;
  const arm = (a: CanaryComparison["champion"]) =>
    `\`${escapeMrkdwn(a.version)}\`: ${a.n} predictions, ${a.labelled} labelled${a.labelled ? `, error rate ${num(a.errors / a.labelled)}` : ""}${a.confidence.n ? `, mean confidence ${num(a.confidence.mean)}` : ""}`;
  const tests = k.tests.map(
    (t) =>
      `${t.significant ? ":small_orange_diamond:" : ":white_small_square:"} ${t.name}: ${num(t.champion)} → ${num(t.challenger)} (${t.method === "welch_t" ? "Welch t" : "z"} = ${num(t.statistic)}, p = ${fmtP(t.pValue)})`,
  );
  const verdict = {
    insufficient_sample: ":hourglass: Not enough sample yet",
    challenger_better: ":large_green_circle: Challenger better",
    challenger_worse: ":red_circle: Challenger worse",
    no_difference: ":white_circle: No significant difference",
  }[k.verdict];
  const blocks: KnownBlock[] = [
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*Canary of ${escapeMrkdwn(c.model)}*: champion ${arm(k.champion)}; challenger ${arm(k.challenger)}.\n${tests.join("\n") || "_No tests yet._"}`,
      },
    },
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*${verdict}* (${k.basis === "labels" ? "on labels" : k.basis === "proxies" ? "on confidence proxies" : `min ${k.minSamplePerArm} per arm`}, α = ${k.alpha}). ${escapeMrkdwn(k.summary)}`,
      },
    },
  ];
  if (view.actions) {
    const value = String(c.id);
    const promote = k.enoughSample && k.verdict !== "challenger_worse";
    blocks.push({
      type: "actions",
      block_id: `canary:${c.id}`,
      elements: [
        ...(promote
          ? [
              {
                type: "button" as const,
                action_id: ACTION_IDS.canaryPromote,
                text: { type: "plain_text" as const, text: "Promote" },
                style: "primary" as const,
                value,
              },
            ]
          : []),
        {
          type: "button",
          action_id: ACTION_IDS.canaryRollback,
          text: { type: "plain_text", text: "Roll back" },
          style: "danger",
          value,
        },
      ],
    });
  }
  return { text: `Canary of ${c.model} ${c.version}: ${verdict.replace(/^:[a-z_]+: /, "")}`, blocks };
}

/** Asks why the candidate is rejected. */
export function rejectModal(c: Candidate, meta: { candidateId: number; channel: string }): View {
  return {
    type: "modal",
    callback_id: VIEW_IDS.retrainReject,
    private_metadata: JSON.stringify(meta),
    title: { type: "plain_text", text: "Reject candidate" },
    submit: { type: "plain_text", text: "Reject" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      {
        type: "section",
        text: { type: "mrkdwn", text: `*${escapeMrkdwn(c.model)}* \`${escapeMrkdwn(c.version)}\`` },
      },
      {
        type: "input",
        block_id: INPUT_IDS.rejectReasonBlock,
        label: { type: "plain_text", text: "Why is it rejected?" },
        element: {
          type: "plain_text_input",
          action_id: INPUT_IDS.rejectReason,
          multiline: true,
          max_length: 1000,
        },
      },
    ],
  };
}

/** `/mlops models`: each model's champion, challenger and canary. */
export function modelsRolloutBlocks(rows: ModelRollout[]): { text: string; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [{ type: "header", text: { type: "plain_text", text: "Models" } }];
  const text: string[] = [];
  for (const m of rows.slice(0, 45)) {
    const ch = m.challenger;
    const challenger = ch
      ? `\`${escapeMrkdwn(ch.version)}\` · ${STATE_LINE[ch.state].replace(/^:[a-z_]+: /, "").toLowerCase()}${ch.share !== null && ["canary", "canary_starting", "promoting", "rolling_back"].includes(ch.state) ? ` · canary ${Math.round(ch.share * 100)}%` : ""}`
      : "none";
    blocks.push({
      type: "section",
      fields: [
        { type: "mrkdwn", text: `*${escapeMrkdwn(m.name)}*\n\`${m.slug}\`` },
        {
          type: "mrkdwn",
          text: `*Champion* \`${escapeMrkdwn(m.champion ?? "none")}\`\n*Challenger* ${challenger}`,
        },
      ],
    });
    text.push(
      `${m.slug}: champion ${m.champion ?? "none"}${ch ? `, challenger ${ch.version} (${ch.state})` : ""}`,
    );
  }
  return { text: `Models: ${text.join("; ")}`, blocks };
}
