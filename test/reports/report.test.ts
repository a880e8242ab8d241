import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultRows } from "../../src/db/client.js";
import type { Db } from "../../src/db/index.js";
import { createOutboxRepository } from "../../src/outbox/index.js";
import { systemClock } from "../../src/shared/clock.js";
import { formatDuration } from "../../src/shared/duration.js";
import { createReportsFeature } from "../../src/wiring/reports-feature.js";
import { eventually } from "../e2e/incidents-bot.js";
import { demoConfig, startTestBot } from "../helpers/bot.js";
import { testLogger } from "../helpers/db.js";

type TestBot = Awaited<ReturnType<typeof startTestBot>>;
let bot: TestBot;
let db: Db;
let modelId: number;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const NOW = Date.now();

/**
 * The seeded incidents: when each opened, how long before that its bad data began (the start of
 * the window that fired; null when the detector has no window), and how long until it was
 * acknowledged, mitigated and resolved.
 */
const INCIDENTS: {
  subject: string;
  monitor: string;
  openedAgo: number;
  detectBefore: number | null;
  ackAfter: number | null;
  mitigateAfter: number | null;
  resolveAfter: number | null;
  firings: number;
}[] = [
  {
    subject: "amount",
    detectBefore: 20 * MIN,
    mitigateAfter: 30 * MIN,
    monitor: "drift",
    openedAgo: 6 * DAY,
    ackAfter: 4 * MIN,
    resolveAfter: 1 * HOUR,
    firings: 5,
  },
  {
    subject: "country",
    detectBefore: 45 * MIN,
    mitigateAfter: null,
    monitor: "drift",
    openedAgo: 5 * DAY,
    ackAfter: 10 * MIN,
    resolveAfter: null,
    firings: 2,
  },
  {
    subject: "low_confidence",
    detectBefore: null,
    mitigateAfter: 10 * MIN,
    monitor: "confidence",
    openedAgo: 3 * DAY,
    ackAfter: 1 * MIN,
    resolveAfter: 30 * MIN,
    firings: 8,
  },
  {
    subject: "volume",
    detectBefore: 60 * MIN,
    mitigateAfter: null,
    monitor: "data_quality",
    openedAgo: 2 * DAY,
    ackAfter: null,
    resolveAfter: null,
    firings: 1,
  },
  {
    subject: "prediction",
    detectBefore: 5 * MIN,
    mitigateAfter: 2 * HOUR,
    monitor: "drift",
    openedAgo: 1 * DAY,
    ackAfter: 7 * MIN,
    resolveAfter: 5 * HOUR,
    firings: 3,
  },
  // Opened before the period, resolved inside it: resolved counts it, opened and the times do not.
  {
    subject: "merchant",
    detectBefore: 3 * MIN,
    mitigateAfter: null,
    monitor: "drift",
    openedAgo: 10 * DAY,
    ackAfter: 2 * MIN,
    resolveAfter: 3.5 * DAY,
    firings: 4,
  },
];

/** Runbook runs on the incidents above (by index): how each ended, and when after the opening. */
const RUNS = [
  { incident: 0, name: "clear-feature-cache", status: "succeeded", verify: "passed", after: 25 * MIN },
  { incident: 0, name: "restart-service", status: "failed", verify: null, after: 15 * MIN },
  { incident: 1, name: "clear-feature-cache", status: "succeeded", verify: "passed", after: 20 * MIN },
  { incident: 2, name: "restart-service", status: "succeeded", verify: null, after: 5 * MIN },
  { incident: 4, name: "rollback-model", status: "succeeded", verify: "failed", after: 1 * HOUR },
  { incident: 4, name: "rollback-model", status: "succeeded", verify: "passed", after: 110 * MIN },
  // Finished before the period: out of the report.
  { incident: 5, name: "restart-service", status: "succeeded", verify: "passed", after: 1 * HOUR },
];

/**
 * Pages and answers on the incidents above (by index), when after the opening: the first is paged
 * at L2 through ds-oncall and Dev's own PagerDuty rule, acknowledged there; the second at L1 with a
 * trigger that failed after a retry and a phone rule cancelled by the acknowledgement in Slack; the
 * last was opened before the period and is left out.
 */
const PAGING: {
  incident: number;
  after: number;
  kind: string;
  actor: string;
  via: string;
  detail: object;
}[] = [
  {
    incident: 0,
    after: 0,
    kind: "paged",
    actor: "system",
    via: "escalation",
    detail: { tier: 2, schedule: "ds-oncall", onCall: "U0DEV" },
  },
  {
    incident: 0,
    after: 2 * MIN,
    kind: "pager_sent",
    actor: "system",
    via: "pager",
    detail: { pager: "pd", action: "trigger", person: "U0DEV" },
  },
  {
    incident: 0,
    after: 4 * MIN,
    kind: "acknowledged",
    actor: "U0DEV",
    via: "pager",
    detail: { answeredFrom: "PagerDuty" },
  },
  { incident: 1, after: 0, kind: "paged", actor: "system", via: "escalation", detail: { tier: 1 } },
  {
    incident: 1,
    after: 3 * MIN,
    kind: "pager_failed",
    actor: "system",
    via: "pager",
    detail: { pager: "pd", action: "trigger", final: false },
  },
  {
    incident: 1,
    after: 4 * MIN,
    kind: "pager_failed",
    actor: "system",
    via: "pager",
    detail: { pager: "pd", action: "trigger", final: true },
  },
  {
    incident: 1,
    after: 6 * MIN,
    kind: "pager_skipped",
    actor: "system",
    via: "pager",
    detail: { pager: "pd-phone", action: "trigger" },
  },
  { incident: 1, after: 10 * MIN, kind: "acknowledged", actor: "U0DANA", via: "button", detail: {} },
  { incident: 5, after: 0, kind: "paged", actor: "system", via: "escalation", detail: { tier: 1 } },
];
const ids: number[] = [];

/** Drift runs: amount's wasserstein per run, drifted at or above 0.1. */
const AMOUNT = [0.02, 0.03, 0.5, 0.04, 0.8, 0.02, 0.3, 0.05];

const at = (ago: number) => new Date(NOW - ago).toISOString();

async function seed() {
  modelId = Number(
    resultRows<{ id: number }>(await db.execute(sql`select id from models where slug = 'fraud-detector'`))[0]
      ?.id,
  );
  for (const [n, i] of INCIDENTS.entries()) {
    const fp = `fraud-detector/${i.monitor}/${i.subject}`;
    const alert =
      await db.execute(sql`insert into alerts (fingerprint, model, monitor, subject, source, state, severity,
        title, summary, rule, metrics, labels, first_seen_at, last_seen_at, fire_count)
      values (${fp}, 'fraud-detector', ${i.monitor}, ${i.subject}, 'monitor', 'firing', 'warning', ${`seeded ${n}`}, '', '',
        '{}'::jsonb, '{}'::jsonb, ${at(i.openedAgo)}::timestamptz, ${at(i.openedAgo)}::timestamptz, ${i.firings})
      returning id`);
    const alertId = resultRows<{ id: number }>(alert)[0]?.id;
    const state =
      i.resolveAfter !== null && i.resolveAfter < i.openedAgo
        ? "resolved"
        : i.mitigateAfter !== null
          ? "mitigated"
          : i.ackAfter !== null
            ? "acknowledged"
            : "open";
    const inc =
      await db.execute(sql`insert into incidents (fingerprint, alert_id, model, monitor, subject, title, severity, state,
        channel, opened_at, acknowledged_at, mitigated_at, resolved_at, last_fired_at)
      values (${fp}, ${alertId}, 'fraud-detector', ${i.monitor}, ${i.subject}, ${`seeded ${n}`}, 'warning', ${state}, 'fraud-alerts',
        ${at(i.openedAgo)}::timestamptz,
        ${i.ackAfter === null ? null : at(i.openedAgo - i.ackAfter)}::timestamptz,
        ${i.mitigateAfter === null ? null : at(i.openedAgo - i.mitigateAfter)}::timestamptz,
        ${state === "resolved" && i.resolveAfter !== null ? at(i.openedAgo - i.resolveAfter) : null}::timestamptz,
        ${at(i.openedAgo)}::timestamptz)
      returning id`);
    const incidentId = resultRows<{ id: number }>(inc)[0]?.id;
    ids.push(incidentId as number);
    for (let f = 0; f < i.firings; f++) {
      const detail = f === 0 && i.detectBefore !== null ? { dataFrom: at(i.openedAgo + i.detectBefore) } : {};
      await db.execute(sql`insert into incident_events (incident_id, at, kind, actor, via, detail)
        values (${incidentId}, ${at(i.openedAgo - f * MIN)}::timestamptz, ${f === 0 ? "opened" : "alert_fired"}, 'monitor', 'alert', ${JSON.stringify(detail)}::jsonb)`);
    }
  }
  for (const [n, r] of RUNS.entries()) {
    const i = INCIDENTS[r.incident] as (typeof INCIDENTS)[number];
    const detail = {
      run: n + 1,
      name: r.name,
      status: r.status,
      exitCode: r.status === "succeeded" ? 0 : 1,
      verify: r.verify,
    };
    await db.execute(sql`insert into incident_events (incident_id, at, kind, actor, via, detail)
      values (${ids[r.incident]}, ${at(i.openedAgo - r.after)}::timestamptz, 'runbook_finished', 'U0OLIVIA', 'command', ${JSON.stringify(detail)}::jsonb)`);
  }
  for (const p of PAGING) {
    const i = INCIDENTS[p.incident] as (typeof INCIDENTS)[number];
    await db.execute(sql`insert into incident_events (incident_id, at, kind, actor, via, detail)
      values (${ids[p.incident]}, ${at(i.openedAgo - p.after)}::timestamptz, ${p.kind}, ${p.actor}, ${p.via}, ${JSON.stringify(p.detail)}::jsonb)`);
  }
  for (const [n, value] of AMOUNT.entries()) {
    const drifted = value >= 0.1;
    await db.execute(sql`insert into monitor_runs (model_id, monitor, trigger, status, rows, metrics, started_at, duration_ms)
      values (${modelId}, 'drift', 'schedule', ${drifted ? "alert" : "ok"}, 400,
        ${JSON.stringify({ drift_share: drifted ? 0.5 : 0, columns: { amount: { method: "wasserstein", value, threshold: 0.1, drifted }, country: { method: "psi", value: 0.01, threshold: 0.2, drifted: false } } })}::jsonb,
        ${at((AMOUNT.length - n) * 12 * HOUR)}::timestamptz, 5)`);
  }
  // A run before the period: its score is out of the report.
  await db.execute(sql`insert into monitor_runs (model_id, monitor, trigger, status, rows, metrics, started_at, duration_ms)
    values (${modelId}, 'drift', 'schedule', 'alert', 400,
      ${JSON.stringify({ drift_share: 1, columns: { amount: { method: "wasserstein", value: 9, threshold: 0.1, drifted: true } } })}::jsonb,
      ${at(9 * DAY)}::timestamptz, 5)`);
  for (let n = 0; n < 5; n++)
    await db.execute(sql`insert into monitor_runs (model_id, monitor, trigger, status, rows, metrics, started_at, duration_ms)
      values (${modelId}, 'confidence', 'schedule', ${n === 4 ? "alert" : n === 0 ? "skipped" : "ok"}, 100,
        ${JSON.stringify({ low_share: n === 4 ? 0.4 : 0.05 })}::jsonb, ${at((5 - n) * DAY)}::timestamptz, 3)`);
}

beforeAll(async () => {
  bot = await startTestBot();
  db = bot.database.db;
  await seed();
});
afterAll(async () => {
  await bot?.close();
});

/** The p-th percentile, interpolating between the closest ranks. */
function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const rank = ((s.length - 1) * p) / 100;
  const below = s[Math.floor(rank)] as number;
  const above = s[Math.ceil(rank)] as number;
  return below + (above - below) * (rank - Math.floor(rank));
}

describe("/mlops report", () => {
  it("posts the 7-day numbers of a seeded history, as computed here from the seed, with a chart per monitor", async () => {
    const { workspace, driver } = bot.sandbox;
    const where = workspace.channelByName("fraud-alerts")?.id as string;
    const res = await driver.command("U0OLIVIA", where, "report fraud-detector 7d");
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).toContain("Building the 7-day report of `fraud-detector`");
    const message = await eventually(
      "the report",
      () => workspace.messages(where).find((m) => m.text.startsWith("Report: ")),
      20_000,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}; the channel has: ${workspace
          .messages(where)
          .map((m) => m.text.slice(0, 100))
          .join(" | ")}`,
      );
    });

    // The numbers, from the seed alone.
    const inPeriod = INCIDENTS.filter((i) => i.openedAgo < 7 * DAY);
    const resolved = INCIDENTS.filter(
      (i) =>
        i.resolveAfter !== null && i.openedAgo - i.resolveAfter < 7 * DAY && i.resolveAfter < i.openedAgo,
    );
    const spans = (pick: (i: (typeof INCIDENTS)[number]) => number | null) =>
      inPeriod.flatMap((i) => (pick(i) === null ? [] : [pick(i) as number]));
    const stages = [
      ["Time to detect", spans((i) => i.detectBefore)],
      ["Time to acknowledge", spans((i) => i.ackAfter)],
      ["Time to mitigate", spans((i) => i.mitigateAfter)],
      [
        "Time to resolve",
        spans((i) => (i.resolveAfter !== null && i.resolveAfter < i.openedAgo ? i.resolveAfter : null)),
      ],
    ] as const;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const line = (xs: readonly number[]) =>
      `${xs.length} · p50 ${formatDuration(percentile(xs, 50))} · p90 ${formatDuration(percentile(xs, 90))} · mean ${formatDuration(mean([...xs]))}`;
    const stillOpen = INCIDENTS.filter(
      (i) => !(i.resolveAfter !== null && i.resolveAfter < i.openedAgo),
    ).length;
    expect(message.text).toContain(
      `Incidents: ${inPeriod.length} opened, ${resolved.length} resolved. ${stages.map(([name, xs]) => `${name}: ${line(xs)}`).join(". ")}.`,
    );
    const blocks = JSON.stringify(message.blocks);
    expect(blocks).toContain(`${stillOpen} still open`);
    for (const [name, xs] of stages) expect(blocks).toContain(`*${name}*: ${line(xs)}`);
    // Runbooks: a run fixed its incident when it succeeded, its check did not fail, and the
    // incident was mitigated or resolved within 30 minutes after it finished.
    const fixedRuns = new Map<string, { runs: number; fixed: number }>();
    for (const r of RUNS) {
      const i = INCIDENTS[r.incident] as (typeof INCIDENTS)[number];
      if (i.openedAgo - r.after >= 7 * DAY) continue;
      const settled = [
        i.mitigateAfter,
        i.resolveAfter !== null && i.resolveAfter < i.openedAgo ? i.resolveAfter : null,
      ]
        .filter((t): t is number => t !== null && t >= r.after)
        .map((t) => t - r.after);
      const fixed = r.status === "succeeded" && r.verify !== "failed" && settled.some((t) => t <= 30 * MIN);
      const entry = fixedRuns.get(r.name) ?? { runs: 0, fixed: 0 };
      entry.runs++;
      if (fixed) entry.fixed++;
      fixedRuns.set(r.name, entry);
    }
    expect([...fixedRuns.values()].reduce((a, b) => a + b.runs, 0)).toBe(6);
    for (const [name, { runs, fixed }] of fixedRuns)
      expect(blocks).toContain(
        `\`${name}\`: fixed ${fixed} of ${runs} ${runs === 1 ? "run" : "runs"}${runs > fixed ? ` (${runs - fixed} did not)` : ""}`,
      );
    // The noisiest fingerprints: firings inside the period, most first.
    const noisy = INCIDENTS.filter((i) => i.openedAgo < 7 * DAY)
      .sort((a, b) => b.firings - a.firings)
      .slice(0, 3)
      .map((i) => `fraud-detector/${i.monitor}/${i.subject}\` fired ${i.firings} times`);
    let last = -1;
    for (const line of noisy) {
      const pos = blocks.indexOf(line);
      expect(pos, line).toBeGreaterThan(last);
      last = pos;
    }
    // Drift scores: amount's max, last and drifted runs over the period's runs (the older 9 is out).
    const drifted = AMOUNT.filter((v) => v >= 0.1).length;
    expect(blocks).toContain(
      `\`amount\` wasserstein: max ${Math.max(...AMOUNT)}, last ${AMOUNT[AMOUNT.length - 1]}, drifted in ${drifted} of ${AMOUNT.length} runs`,
    );
    // Health per monitor: drift's runs by outcome and its last status.
    expect(blocks).toContain(
      `*drift*: last run ok · ${AMOUNT.length} runs: ${AMOUNT.length - drifted} ok, ${drifted} alert`,
    );
    expect(blocks).toContain("*confidence*: last run alert · 5 runs: 3 ok, 1 alert, 1 skipped");

    // On call and pages: MTTA and MTTR are the stages' means; triggers by outcome; per paged incident.
    const [, acks] = stages[1];
    const [, resolves] = stages[3];
    expect(blocks).toContain(
      `MTTA ${formatDuration(mean([...acks]))} · MTTR ${formatDuration(mean([...resolves]))} (means over the incidents opened in the period)`,
    );
    expect(blocks).toContain("Pages beyond Slack: pd: 1 accepted, 1 failed · pd-phone: 1 cancelled");
    expect(blocks).toContain(
      `• *INC-${ids[0]}* seeded 0: paged L2 (on call in ds-oncall: <@U0DEV>) · beyond Slack: pd accepted (<@U0DEV>'s rule) · acknowledged by <@U0DEV> from PagerDuty after 4m`,
    );
    expect(blocks).toContain(
      `• *INC-${ids[1]}* seeded 1: paged L1 · beyond Slack: pd failed, pd-phone cancelled · acknowledged by <@U0DANA> from Slack after 10m`,
    );
    expect(blocks).not.toContain(`*INC-${ids[5]}*`);

    // One chart per configured monitor, in the report's thread.
    const monitors = Object.keys(demoConfig().models[0]?.monitors ?? {}).length;
    const files = await eventually(
      "the report's charts",
      () => {
        const found = workspace
          .thread(where, message.ts)
          .flatMap((m) => m.files)
          .map((id) => workspace.file(id));
        return found.length >= monitors ? found : undefined;
      },
      30_000,
    );
    expect(files).toHaveLength(monitors);
    expect(files.map((f) => f?.title)).toContain("Share of drifted features over the period");
    for (const f of files) expect(f?.alt_text?.length).toBeGreaterThan(20);
  }, 60_000);

  it("refuses an unknown model or a bad period, and posts nothing", async () => {
    const { workspace, driver } = bot.sandbox;
    const where = workspace.channelByName("fraud-alerts")?.id as string;
    const before = workspace.messages(where).length;
    for (const [text, says] of [
      ["report nope 7d", "No model called `nope`"],
      ["report fraud-detector 400d", "`400d` is not a period"],
      ["report fraud-detector 7x", "`7x` is not a period"],
    ] as const) {
      const res = await driver.command("U0OLIVIA", where, text);
      expect(JSON.stringify(res.body)).toContain(says);
      expect(JSON.stringify(res.body)).toContain("Nothing was posted.");
    }
    expect(workspace.messages(where)).toHaveLength(before);
  });
});

describe("the weekly digest", () => {
  it("is claimed once across two replicas, and a rerun of the tick posts nothing twice", async () => {
    const config = demoConfig();
    const { createModelRegistry } = await import("../../src/models/index.js");
    const replicas = ["replica-a", "replica-b"].map((instanceId) => {
      const registry = createModelRegistry(db, systemClock);
      const ready = async () => {
        await registry.sync(config);
      };
      return {
        ready,
        feature: createReportsFeature(
          {
            config,
            database: bot.database,
            logger: testLogger,
            clock: systemClock,
          } as never,
          { registry, ready, wake: () => {}, instanceId },
        ),
      };
    });
    for (const r of replicas) await r.ready();
    // The Monday 09:00 (UTC) at or before now.
    const { latestTick } = await import("../../src/scheduler/model.js");
    const tick = latestTick(config.reports.weekly.schedule, new Date(), "UTC") as Date;
    const results = await Promise.all(
      replicas.map((r) => r.feature.scheduler.claimTick("reports:weekly", tick)),
    );
    expect(results.sort()).toEqual(["ran", "taken"]);
    const digests = async () =>
      resultRows<{ n: number }>(
        await db.execute(
          sql`select count(*)::int as n from outbox where coalesce_key = ${`digest:fraud-detector:${tick.toISOString()}`}`,
        ),
      );
    expect((await digests())[0]?.n).toBe(1);
    // A replica that died after posting and before finishing its claim: the rerun posts nothing.
    expect(await replicas[1]?.feature.reports.weekly(tick)).toBe(0);
    expect((await digests())[0]?.n).toBe(1);
    const counts = await createOutboxRepository(db).countByState();
    expect(counts.failed ?? 0).toBe(0);
  });
});
