/**
 * The diagnosis context an L2 or L3 page carries, read from what is stored: the newest monitor runs
 * of the model (drift per feature with its rule, data-quality findings, the confidence trend) and
 * the incident's timeline (runbook runs; for L3, everything since L2 was paged).
 */
import type { Db } from "../db/index.js";
import {
  actorLabel,
  createIncidentRepository,
  type Incident,
  type TimelineEntry,
} from "../incidents/index.js";
import { createModelRepository } from "../models/index.js";
import { createMonitoringRepository } from "../monitoring/index.js";
import { ESCALATION_EVENTS } from "./model.js";
import type { PageContext } from "./ports.js";

/** Features shown in a page, worst first. */
const TOP_FEATURES = 5;
/** Confidence runs in the trend. */
const TREND_RUNS = 6;

function num(x: unknown): number | null {
  return typeof x === "number" && Number.isFinite(x) ? x : null;
}

function str(x: unknown): string | null {
  return typeof x === "string" && x !== "" ? x : null;
}

/** Drift columns from a run's metrics, the drifted ones first, then by how far past the threshold. */
function driftColumns(metrics: Record<string, unknown>): PageContext["drift"] {
  const columns = metrics.columns;
  if (!columns || typeof columns !== "object") return [];
  const list = Object.entries(columns as Record<string, Record<string, unknown>>).map(([feature, c]) => ({
    feature,
    method: str(c.method) ?? "?",
    value: num(c.value),
    threshold: num(c.threshold),
    drifted: c.drifted === true,
  }));
  // p-value tests drift when small, distances when large: rank by how far past (or short of) the threshold.
  const severity = (c: (typeof list)[number]) => {
    if (c.value === null || c.threshold === null || c.threshold === 0) return 0;
    const test = ["ks", "chi2", "ztest"].includes(c.method);
    return test ? c.threshold / Math.max(c.value, 1e-12) : c.value / c.threshold;
  };
  return list
    .filter((c) => c.feature !== "prediction" || c.drifted)
    .sort((a, b) => Number(b.drifted) - Number(a.drifted) || severity(b) - severity(a))
    .slice(0, TOP_FEATURES);
}

/** Runbook runs the runbooks feature wrote to the timeline (`runbook_finished`, else `runbook_started`). */
export function runbookRuns(timeline: readonly TimelineEntry[]): PageContext["runbooks"] {
  const byRun = new Map<string, PageContext["runbooks"][number]>();
  for (const e of timeline) {
    if (e.kind !== "runbook_started" && e.kind !== "runbook_finished") continue;
    const d = e.detail;
    const key = String(d.run ?? `${e.id}`);
    const verify = d.verify;
    byRun.set(key, {
      at: e.at,
      name: str(d.name) ?? "runbook",
      status: str(d.status) ?? (e.kind === "runbook_started" ? "running" : "finished"),
      exitCode: num(d.exitCode),
      durationMs: num(d.durationMs),
      verify:
        typeof verify === "string"
          ? verify
          : verify && typeof verify === "object"
            ? (str((verify as Record<string, unknown>).status) ?? JSON.stringify(verify).slice(0, 120))
            : null,
    });
  }
  return [...byRun.values()].slice(-5);
}

/** One timeline event in words, for the L3 page's "what L2 tried". */
function eventText(e: TimelineEntry): string | null {
  const d = e.detail;
  switch (e.kind) {
    case "acknowledged":
    case "mitigated":
    case "resolved":
    case "silenced":
      return `${e.kind.replace(/_/g, " ")}${d.note ? `: ${String(d.note)}` : ""}`;
    case "runbook_started":
      return `started runbook ${String(d.name ?? "")}`;
    case "runbook_finished":
      return `runbook ${String(d.name ?? "")} ${String(d.status ?? "finished")}${d.exitCode !== undefined ? ` (exit ${String(d.exitCode)})` : ""}`;
    case ESCALATION_EVENTS.pageAcknowledged:
      return "acknowledged the page";
    case ESCALATION_EVENTS.escalated:
      return `escalated to L${String(d.to ?? "?")}${d.note ? `: ${String(d.note)}` : ""}`;
    default:
      if (e.kind.startsWith("retrain") || e.kind.startsWith("candidate") || e.kind.startsWith("approv"))
        return e.kind.replace(/_/g, " ");
      return null;
  }
}

/** Reads the context of a page of `tier` (L2 and up; L1 pages carry none). */
export async function pageContext(db: Db, incident: Incident, tier: number): Promise<PageContext | null> {
  if (tier < 2) return null;
  const timeline = await createIncidentRepository(db).timeline(incident.id);
  const context: PageContext = {
    drift: [],
    driftRule: null,
    dataQuality: [],
    confidence: [],
    runbooks: runbookRuns(timeline),
    sinceL2: [],
  };
  const model = await createModelRepository(db).bySlug(incident.model);
  if (model) {
    const runs = await createMonitoringRepository(db).recentRuns(model.id, TREND_RUNS);
    const decisive = runs.filter((r) => r.status === "ok" || r.status === "alert");
    const drift = decisive.find((r) => r.monitor === "drift");
    if (drift) {
      context.drift = driftColumns(drift.metrics);
      context.driftRule = drift.findings.find((f) => f.subject === incident.subject)?.rule ?? drift.rule;
    }
    const quality = decisive.find((r) => r.monitor === "data_quality");
    if (quality)
      context.dataQuality = quality.findings.slice(0, 5).map((f) => ({ title: f.title, rule: f.rule }));
    context.confidence = decisive
      .filter((r) => r.monitor === "confidence")
      .map((r) => ({ at: r.started_at, lowShare: num(r.metrics.low_share) }))
      .reverse();
  }
  if (tier >= 3) {
    const l2 = timeline.find((e) => e.kind === ESCALATION_EVENTS.escalated && Number(e.detail.to) === 2);
    const since = l2?.id ?? 0;
    context.sinceL2 = timeline
      .filter((e) => e.id > since)
      .flatMap((e) => {
        const text = eventText(e);
        return text ? [{ at: e.at, kind: e.kind, actor: actorLabel(e.actor), text }] : [];
      })
      .slice(-10);
  }
  return context;
}
