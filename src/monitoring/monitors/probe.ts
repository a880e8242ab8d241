/**
 * Service probe: the model microservice answers `GET <service_url>/health` with 2xx, within the
 * latency limit, and `POST <service_url>/predict` with `{ features }` returns `{ prediction }`
 * matching each golden case (the scripted spot check). On schedule, a failure alerts only when the
 * previous scheduled probe failed too (a single blip does not page anyone); a check asked for by a
 * person reports it at once.
 */
import type { ModelConfig } from "../../config/index.js";
import { type Finding, type MonitorOutcome, round, statusOf } from "../model.js";
import { type MonitorContext, skipped } from "./context.js";

type ProbeConfig = NonNullable<ModelConfig["monitors"]["probe"]>;

function matches(actual: unknown, expected: number | string, tolerance: number): boolean {
  if (typeof expected === "number") {
    const n = typeof actual === "string" ? Number(actual) : actual;
    return typeof n === "number" && Number.isFinite(n) && Math.abs(n - expected) <= tolerance;
  }
  return String(actual) === expected;
}

/** Scheduled failures in a row before the probe alerts. */
export const FAILURES_BEFORE_ALERT = 2;

/** Runs the probe. */
export async function runProbe(ctx: MonitorContext, cfg: ProbeConfig): Promise<MonitorOutcome> {
  const base = ctx.config.service_url?.replace(/\/+$/, "");
  if (!base) return skipped(null, "no service_url configured");
  const findings: Finding[] = [];
  const latencies: number[] = [];
  let health: number | string;
  try {
    const res = await ctx.services.get(`${base}/health`, cfg.timeout);
    health = res.status;
    latencies.push(res.latencyMs);
    if (res.status < 200 || res.status >= 300)
      findings.push({
        subject: "availability",
        severityRule: "probe_down",
        title: `${ctx.model.slug} service answered ${res.status} on /health`,
        metrics: { status: res.status },
        rule: "GET /health must answer 2xx",
      });
  } catch (err) {
    health = (err as Error).name === "TimeoutError" ? "timeout" : "unreachable";
    findings.push({
      subject: "availability",
      severityRule: "probe_down",
      title: `${ctx.model.slug} service is ${health === "timeout" ? `not answering within ${cfg.timeout} ms` : "unreachable"}`,
      metrics: { error: String((err as Error).message).slice(0, 200) },
      rule: `GET /health must answer 2xx within ${cfg.timeout} ms`,
    });
  }
  let wrong = 0;
  const golden: { expected: number | string; actual: unknown }[] = [];
  if (findings.length === 0) {
    for (const g of cfg.golden) {
      try {
        const res = await ctx.services.post(`${base}/predict`, { features: g.input }, cfg.timeout);
        latencies.push(res.latencyMs);
        const actual = (res.body as { prediction?: unknown } | null)?.prediction;
        golden.push({ expected: g.expected, actual: actual ?? null });
        if (res.status < 200 || res.status >= 300 || !matches(actual, g.expected, g.tolerance)) wrong++;
      } catch (err) {
        golden.push({ expected: g.expected, actual: `error: ${(err as Error).message}`.slice(0, 100) });
        wrong++;
      }
    }
    if (wrong > 0)
      findings.push({
        subject: "golden",
        severityRule: "probe_down",
        title: `${wrong} of ${cfg.golden.length} golden inputs gave the wrong answer`,
        metrics: { wrong, cases: cfg.golden.length },
        rule: "every golden input must return its expected prediction (± tolerance)",
      });
  }
  const maxLatency = latencies.length ? Math.max(...latencies) : null;
  if (maxLatency !== null && maxLatency > cfg.max_latency_ms)
    findings.push({
      subject: "latency",
      severityRule: "probe_slow",
      title: `${ctx.model.slug} service took ${Math.round(maxLatency)} ms (limit ${cfg.max_latency_ms} ms)`,
      metrics: { latency_ms: round(maxLatency), max_latency_ms: cfg.max_latency_ms },
      rule: `slowest call > ${cfg.max_latency_ms} ms (fixed threshold)`,
    });
  const previousStreak = Number(ctx.previous?.metrics.failure_streak ?? 0) || 0;
  const streak = findings.length ? previousStreak + 1 : 0;
  const held = ctx.trigger === "schedule" && findings.length > 0 && streak < FAILURES_BEFORE_ALERT;
  return {
    status: held ? "ok" : statusOf(findings),
    window: null,
    rows: 0,
    metrics: {
      health,
      latency_ms: round(maxLatency),
      golden_wrong: wrong,
      golden: golden.slice(0, 20),
      failure_streak: streak,
      ...(held ? { held: findings.map((f) => f.title) } : {}),
    },
    ...(held
      ? {
          note: `failed once (${findings.map((f) => f.subject).join(", ")}); alerts if the next scheduled probe fails too`,
        }
      : {}),
    rule: `2xx health, golden set exact, latency <= ${cfg.max_latency_ms} ms; on schedule after ${FAILURES_BEFORE_ALERT} failures in a row`,
    findings: held ? [] : findings,
  };
}
