import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import { models, monitorRuns } from "../../src/db/schema/index.js";
import { type PageRow, pageContext } from "../../src/escalation/index.js";
import { createIncidentRepository, type Incident } from "../../src/incidents/index.js";
import { pageMessage } from "../../src/slack/escalation/blocks.js";
import { demoConfig } from "../helpers/bot.js";
import { openTestDatabase } from "../helpers/db.js";
import { driftSignal, freshSubject, incidentServices, manualClock } from "../incidents/fixture.js";

let database: Database;
const clock = manualClock();
let incident: Incident;

beforeAll(async () => {
  database = await openTestDatabase();
  const config = demoConfig();
  const services = incidentServices(database, config, clock);
  const [outcome] = await services.intake.process([driftSignal(clock, { subject: freshSubject("amount") })]);
  incident = (await services.incidents.get(outcome?.incidentId as number)) as Incident;
  const [model] = await database.db
    .insert(models)
    .values({
      slug: "fraud-detector",
      name: "Fraud detector",
      task: "binary_classification",
      confidenceThreshold: 0.75,
      features: [],
    })
    .returning();
  const run = (
    monitor: string,
    minutesAgo: number,
    metrics: Record<string, unknown>,
    findings: unknown[] = [],
  ) => ({
    modelId: model?.id as number,
    monitor,
    trigger: "schedule" as const,
    status: findings.length ? ("alert" as const) : ("ok" as const),
    rows: 1000,
    metrics,
    rule: `${monitor} rule`,
    findings: findings as Record<string, unknown>[],
    startedAt: new Date(clock.now().getTime() - minutesAgo * 60_000),
    durationMs: 12,
  });
  await database.db.insert(monitorRuns).values([
    run(
      "drift",
      5,
      {
        drift_share: 0.4,
        columns: {
          amount: { method: "psi", value: 0.34, threshold: 0.2, drifted: true },
          country: { method: "chi2", value: 0.0001, threshold: 0.05, drifted: true },
          channel: { method: "chi2", value: 0.6, threshold: 0.05, drifted: false },
          prediction: { method: "psi", value: 0.01, threshold: 0.2, drifted: false },
        },
      },
      [
        {
          subject: incident.subject,
          rule: "PSI >= 0.2 (fixed threshold)",
          title: "Drift",
          severity: "warning",
          metrics: {},
        },
      ],
    ),
    run("data_quality", 5, {}, [
      {
        subject: "amount",
        title: "12% missing in amount",
        rule: "missing share > 1.1 × reference",
        severity: "warning",
        metrics: {},
      },
    ]),
    run("confidence", 15, { low_share: 0.05 }),
    run("confidence", 10, { low_share: 0.12 }),
    run("confidence", 5, { low_share: 0.31 }),
  ]);
  const events = createIncidentRepository(database.db);
  const base = { incidentId: incident.id, via: "command" };
  await events.addEvent({
    ...base,
    at: clock.now(),
    kind: "escalated",
    actor: "U0OLIVIA",
    detail: { from: 1, to: 2 },
  });
  await events.addEvent({
    ...base,
    at: clock.now(),
    kind: "runbook_started",
    actor: "U0DANA",
    detail: { run: 7, name: "restart-scorer", status: "running" },
  });
  await events.addEvent({
    ...base,
    at: clock.now(),
    kind: "runbook_finished",
    actor: "U0DANA",
    detail: {
      run: 7,
      name: "restart-scorer",
      status: "failed",
      exitCode: 2,
      durationMs: 4200,
      verify: { status: "still_failing" },
    },
  });
});
afterAll(async () => {
  await database?.close();
});

const page = (tier: number): PageRow => ({
  id: 1,
  incidentId: 1,
  step: 1,
  tier,
  reason: "timeout",
  actor: "timer",
  note: "not acknowledged within 15m",
  state: "pending",
  leaseUntil: null,
  attempts: 1,
  lastError: null,
  createdAt: clock.now(),
  doneAt: null,
  members: [],
  mentionOutboxId: null,
});

describe("the context a page carries", () => {
  it("L2: the most drifted features with scores and rule, data quality, the confidence trend, runbook runs", async () => {
    const context = await pageContext(database.db, incident, 2);
    expect(context?.drift.map((d) => [d.feature, d.drifted])).toEqual([
      ["country", true],
      ["amount", true],
      ["channel", false],
    ]);
    expect(context?.driftRule).toBe("PSI >= 0.2 (fixed threshold)");
    expect(context?.confidence.map((c) => c.lowShare)).toEqual([0.05, 0.12, 0.31]);
    expect(context?.runbooks).toEqual([
      expect.objectContaining({
        name: "restart-scorer",
        status: "failed",
        exitCode: 2,
        verify: "still_failing",
      }),
    ]);
    expect(context?.sinceL2).toEqual([]);
    const dm = JSON.stringify(
      pageMessage(
        {
          incident,
          page: page(2),
          group: { handle: "ds-oncall", id: "S0DS" },
          threadLink: "https://acme.slack.com/archives/C1/p1",
          context,
          modelName: "Fraud detector",
          nextAt: null,
        },
        "dm",
      ),
    );
    expect(dm).toContain("`amount` psi 0.34 (threshold 0.2) :warning: drifted");
    expect(dm).toContain("12% missing in amount");
    expect(dm).toContain("5% → 12% → 31%");
    expect(dm).toContain("`restart-scorer` failed exit 2 in 4s · verify: still_failing");
    expect(dm).toContain("https://acme.slack.com/archives/C1/p1");
  });

  it("L3 adds what was tried since L2 was paged", async () => {
    const context = await pageContext(database.db, incident, 3);
    expect(context?.sinceL2.map((e) => [e.actor, e.text])).toEqual([
      ["<@U0DANA>", "started runbook restart-scorer"],
      ["<@U0DANA>", "runbook restart-scorer failed (exit 2)"],
    ]);
  });

  it("L1 pages carry no data-science context", async () => {
    expect(await pageContext(database.db, incident, 1)).toBeNull();
  });
});
