/** Block Kit for monitoring replies: the check table, status with trend, models with health. */
import type { KnownBlock } from "@slack/types";
import type { MonitorRun } from "../../monitoring/index.js";
import { escapeMrkdwn } from "../../shared/text.js";

const ICON = { ok: "✅", alert: "🔴", skipped: "⚪", error: "⚠️" } as const;
const MAX_TEXT = 2900;

function clip(text: string, max = MAX_TEXT): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s.slice(0, n) : s + " ".repeat(n - s.length);
}

/** A number in three significant digits (integers as they are), or "—". */
function n3(v: unknown): string {
  const x = typeof v === "number" ? v : Number(v);
  if (v === null || v === undefined || !Number.isFinite(x)) return "—";
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(3)));
}

/** The headline numbers of a run, in a few words. */
export function runNumbers(
  run: Pick<MonitorRun, "monitor" | "status" | "rows" | "metrics" | "note" | "findings">,
): string {
  const m = run.metrics as Record<string, unknown>;
  if (run.status === "skipped" || run.status === "error") return String(run.note ?? m.note ?? "");
  switch (run.monitor) {
    case "confidence":
      return m.low_share !== undefined
        ? `${m.low}/${m.with_confidence} low (${Math.round(Number(m.low_share) * 1000) / 10}%)`
        : `${run.rows} rows`;
    case "drift":
      return `${run.rows} rows, drift share ${n3(m.drift_share)}`;
    case "data_quality":
      return `${run.rows} rows${m.expected_rows !== undefined ? ` (expected ~${Math.round(Number(m.expected_rows))})` : ""}`;
    case "performance":
      // A regression run shows every metric: the configured one decides, the others explain it.
      if (m.rmse !== undefined)
        return `${m.mode ?? ""} ${m.metric ?? ""} ${n3(m.value)} (MAE ${n3(m.mae)}, RMSE ${n3(m.rmse)}, MAPE ${n3(m.mape)}, R² ${n3(m.r2)})`.trim();
      // A multiclass estimate from class probabilities: the judged metric and its band, then both estimates.
      if (m.estimated_macro_f1 !== undefined)
        return `${m.mode ?? ""} ${m.metric === "f1" ? "macro F1" : (m.metric ?? "")} ${n3(m.value)} (band ≥ ${n3(m.lower)}; accuracy ${n3(m.estimated_accuracy)}, macro F1 ${n3(m.estimated_macro_f1)})`.trim();
      return `${m.mode ?? ""} ${m.metric ?? ""} ${n3(m.value)}`.trim();
    case "multivariate": {
      const parts: string[] = [];
      if (m.reconstruction_error !== undefined)
        parts.push(`reconstruction error ${n3(m.reconstruction_error)} (band ${n3(m.lower)}–${n3(m.upper)})`);
      for (const e of (m.embeddings ?? []) as Record<string, unknown>[])
        parts.push(
          `${e.feature}: distance ${n3(e.distance)}${e.lower !== undefined ? ` (band ${n3(e.lower)}–${n3(e.upper)})` : ""}, classifier AUC ${n3(e.domain_auc)} (${e.reference_vectors}+${e.recent_vectors} vectors)`,
        );
      // An embedding the reference could not fit says so here too (m.note).
      if (m.note) parts.push(String(m.note));
      return parts.length
        ? `${run.rows} rows, ${m.scored_rows} scored, ${parts.join("; ")}`
        : `${run.rows} rows`;
    }
    case "probe":
      return `health ${m.health}, ${n3(m.latency_ms)} ms, golden wrong ${m.golden_wrong ?? 0}`;
    default:
      return `${run.rows} rows`;
  }
}

/** The `/mlops check` result: a compact table, then every finding with its rule. */
export function checkBlocks(
  model: string,
  runs: readonly MonitorRun[],
): { text: string; blocks: KnownBlock[] } {
  const alerts = runs.filter((r) => r.status === "alert").length;
  const header = `Check of ${model}: ${alerts ? `${alerts} monitor${alerts > 1 ? "s" : ""} alerting` : "all clear"}`;
  const table = [
    `${pad("monitor", 13)}${pad("status", 9)}numbers`,
    ...runs.map((r) => `${pad(r.monitor, 13)}${pad(r.status, 9)}${runNumbers(r)}`),
  ].join("\n");
  const findings = runs.flatMap((r) =>
    r.findings.map(
      (f) =>
        `${ICON.alert} *${escapeMrkdwn(r.monitor)}* · ${escapeMrkdwn(f.title)}\n      _rule:_ ${escapeMrkdwn(f.rule)}`,
    ),
  );
  const blocks: KnownBlock[] = [
    { type: "section", text: { type: "mrkdwn", text: `*${escapeMrkdwn(header)}*` } },
    { type: "section", text: { type: "mrkdwn", text: clip(`\`\`\`${table}\`\`\``) } },
  ];
  if (findings.length)
    blocks.push({ type: "section", text: { type: "mrkdwn", text: clip(findings.join("\n")) } });
  const rules = runs.filter((r) => r.rule && r.status !== "alert").map((r) => `${r.monitor}: ${r.rule}`);
  if (rules.length)
    blocks.push({
      type: "context",
      elements: [{ type: "mrkdwn", text: clip(escapeMrkdwn(rules.join(" · ")), 2000) }],
    });
  const text = [
    header,
    ...runs.map((r) => `${r.monitor}: ${r.status} — ${runNumbers(r)}`),
    ...runs.flatMap((r) => r.findings.map((f) => `${r.monitor}: ${f.title} [${f.rule}]`)),
  ].join("\n");
  return { text: clip(text, 3900), blocks };
}

/** One line per monitor: last status, when, numbers, and the trend of recent runs (oldest → newest). */
export function statusBlocks(
  model: string,
  byMonitor: ReadonlyMap<string, { status: MonitorRun["status"]; startedAt: Date; numbers: string }[]>,
  now: Date,
  footer?: string,
): { text: string; blocks: KnownBlock[] } {
  if (byMonitor.size === 0) {
    const text = `No monitor of ${model} has run yet. \`/mlops check ${model}\` runs them now.`;
    return { text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] };
  }
  const lines = [...byMonitor.entries()].map(([monitor, runs]) => {
    const last = runs[0];
    if (!last) return monitor;
    const ago = Math.max(0, Math.round((now.getTime() - last.startedAt.getTime()) / 60_000));
    const trend = [...runs]
      .reverse()
      .map((r) => ICON[r.status])
      .join("");
    return `${ICON[last.status]} *${monitor}* ${last.status} ${ago < 1 ? "just now" : `${ago} min ago`} — ${escapeMrkdwn(last.numbers)}\n      trend ${trend}`;
  });
  const text = `Status of ${model}`;
  return {
    text: `${text}\n${lines.join("\n")}${footer ? `\n${footer}` : ""}`.replace(/\*/g, ""),
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*${escapeMrkdwn(text)}*` } },
      { type: "section", text: { type: "mrkdwn", text: clip(lines.join("\n")) } },
      ...(footer
        ? [{ type: "context" as const, elements: [{ type: "mrkdwn" as const, text: escapeMrkdwn(footer) }] }]
        : []),
    ],
  };
}

/** Models with their health: the worst latest status of their monitors and whether a reference exists. */
export function healthBlocks(
  models: readonly {
    slug: string;
    name: string;
    health: MonitorRun["status"] | "unknown";
    monitors: string[];
    reference: boolean;
    alerting: string[];
  }[],
): { text: string; blocks: KnownBlock[] } {
  const lines = models.map((m) => {
    const icon = m.health === "unknown" ? "⚪" : ICON[m.health];
    const alerting = m.alerting.length ? ` — alerting: ${m.alerting.join(", ")}` : "";
    return `${icon} *${escapeMrkdwn(m.name)}* \`${m.slug}\` ${m.health === "unknown" ? "no runs yet" : m.health}${alerting}\n      monitors: ${m.monitors.join(", ") || "none"} · reference: ${m.reference ? "yes" : "none (use /mlops baseline)"}`;
  });
  return {
    text: `Models: ${models.map((m) => `${m.slug} (${m.health})`).join(", ")}`,
    blocks: [
      { type: "header", text: { type: "plain_text", text: "Monitored models" } },
      { type: "section", text: { type: "mrkdwn", text: clip(lines.join("\n")) } },
    ],
  };
}
