/**
 * The dead-man's switch through the real hub: a monitor that stops running and a model whose
 * traffic stops each open an incident (each alert has a fingerprint of its own: model + `deadman` +
 * what went silent; at different times they are different incidents, at once they would share
 * the group of `alerting.group_by`), and each resolves, without firing again, once runs and
 * traffic resume.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bot, startBot } from "../../src/bot.js";
import { parseEnv } from "../../src/config/index.js";
import { resultRows } from "../../src/db/client.js";
import { fingerprintOf } from "../../src/incidents/alert-model.js";
import { DEADMAN_MONITOR, TRAFFIC_SUBJECT } from "../../src/monitoring/index.js";
import { createIncidentsFeature } from "../../src/wiring/incidents-feature.js";
import { createMonitoringFeature, type MonitoringFeature } from "../../src/wiring/monitoring-feature.js";
import { driftOnlyConfig } from "../helpers/bot.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";
import { fraudRow, manualClock, seeded } from "../helpers/monitoring.js";

const MODEL = "fraud-detector";
// The bot starts at 10:00:30; drift runs hourly ("0 * * * *"); traffic is expected every 10 minutes.
const clock = manualClock(new Date("2030-05-01T10:00:30Z"));
const at = (hhmm: string) => clock.set(new Date(`2030-05-01T${hhmm}:00Z`));
const config = driftOnlyConfig({ expect_traffic_within: 10 * 60_000 });
const rand = seeded(99);
let bot: Bot;
let monitoring: MonitoringFeature;

beforeAll(async () => {
  expect(config.models[0]?.monitors.drift?.schedule).toBe("0 * * * *");
  const database = await openTestDatabase();
  bot = await startBot({
    env: parseEnv({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" }),
    config,
    logger: testLogger,
    slackRetries: 0,
    database,
    clock,
    features: (ctx) => {
      const incidents = createIncidentsFeature(ctx, {});
      monitoring = createMonitoringFeature(ctx, { sink: incidents.sink, schedule: false });
      return [incidents, monitoring];
    },
  });
});
afterAll(async () => {
  await bot?.close();
});

/** The incidents the problem's alert fired into (its own, or its group's under alerting.group_by). */
async function incidentsOf(subject: string) {
  const fingerprint = fingerprintOf({ model: MODEL, monitor: DEADMAN_MONITOR, subject });
  return resultRows<{ ref: number; state: string; title: string }>(
    await bot.database.db.execute(
      sql`select i.id as ref, i.state, i.title from incidents i
          join incident_members m on m.incident_id = i.id
          join alerts a on a.id = m.alert_id
          where a.fingerprint = ${fingerprint} order by i.id`,
    ),
  );
}

async function deadmanRuns(): Promise<number> {
  const [row] = resultRows<{ n: number }>(
    await bot.database.db.execute(sql`select count(*)::int as n from monitor_runs where monitor = 'deadman'`),
  );
  return row?.n ?? 0;
}

async function ingestAt(hhmm: string) {
  const ts = new Date(`2030-05-01T${hhmm}:00Z`);
  await monitoring.ingest.ingestPredictions(MODEL, [fraudRow(rand, `p-${hhmm}`, ts)]);
}

describe("dead-man's switch", () => {
  it("while runs and traffic come on time, nothing fires and nothing is recorded", async () => {
    await ingestAt("10:01");
    at("10:05");
    // The switch is a claimed job of the scheduler (each minute, once across replicas).
    expect(await monitoring.scheduler.tick("monitoring:deadman")).toBe("ran");
    expect((await monitoring.deadman.check())[0]?.findings).toEqual([]);
    // One interval without a run (11:00's) is not yet silence.
    await ingestAt("11:04");
    at("11:05");
    expect((await monitoring.deadman.check())[0]?.findings).toEqual([]);
    expect(await deadmanRuns()).toBe(0);
  });

  it("a monitor with no finished run for two of its intervals opens an incident of its own", async () => {
    // 12:00's run did not come either: nothing since the bot started two hours ago.
    await ingestAt("12:04");
    at("12:05");
    const [check] = await monitoring.deadman.check();
    expect(check?.findings.map((f) => f.subject)).toEqual(["drift"]);
    const [incident] = await incidentsOf("drift");
    expect(incident?.state).toBe("open");
    expect(incident?.title).toMatch(/drift monitor of fraud-detector has not run since the bot started 2h/);
    const runs = await deadmanRuns();
    // A minute later, still silent: nothing new is sent or recorded (no reply in the thread each minute).
    at("12:06");
    expect((await monitoring.deadman.check())[0]?.runId).toBeNull();
    expect(await deadmanRuns()).toBe(runs);
    // Every 15 minutes it is sent again, into the same incident, never a second one.
    await ingestAt("12:19");
    at("12:20");
    const [again] = await monitoring.deadman.check();
    expect(again?.findings.map((f) => f.subject)).toEqual(["drift"]);
    expect(again?.runId).not.toBeNull();
    expect(await deadmanRuns()).toBe(runs + 1);
    expect(await incidentsOf("drift")).toHaveLength(1);
  });

  it("when runs resume, the incident resolves and does not fire again", async () => {
    at("12:21");
    await monitoring.monitoring.runMonitor(MODEL, "drift", "schedule");
    at("12:22");
    const [check] = await monitoring.deadman.check();
    expect(check?.findings).toEqual([]);
    expect(check?.resolved).toEqual(["drift"]);
    expect((await incidentsOf("drift")).map((i) => i.state)).toEqual(["resolved"]);
    const runs = await deadmanRuns();
    at("12:30");
    await ingestAt("12:29");
    expect((await monitoring.deadman.check())[0]?.findings).toEqual([]);
    expect(await deadmanRuns()).toBe(runs);
    expect(await incidentsOf("drift")).toHaveLength(1);
  });

  it("a model with no prediction within expect_traffic_within opens an incident, resolved when traffic returns", async () => {
    // Hourly runs keep coming; the last prediction was at 12:29.
    at("13:00");
    await monitoring.monitoring.runMonitor(MODEL, "drift", "schedule");
    at("13:01");
    const [silent] = await monitoring.deadman.check();
    expect(silent?.findings.map((f) => f.subject)).toEqual([TRAFFIC_SUBJECT]);
    expect(silent?.findings[0]?.metrics.last_prediction_at).toBe("2030-05-01T12:30:00.000Z");
    const [incident] = await incidentsOf(TRAFFIC_SUBJECT);
    expect(incident?.state).toBe("open");
    expect(incident?.title).toMatch(/No predictions from fraud-detector for 31m/);
    // The drift silence was resolved before: a separate problem, a separate incident.
    expect(await incidentsOf("drift")).toHaveLength(1);

    await ingestAt("13:02");
    at("13:03");
    const [back] = await monitoring.deadman.check();
    expect(back?.resolved).toEqual([TRAFFIC_SUBJECT]);
    expect((await incidentsOf(TRAFFIC_SUBJECT)).map((i) => i.state)).toEqual(["resolved"]);
  });
});
