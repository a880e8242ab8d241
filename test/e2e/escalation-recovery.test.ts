import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { type Database, openPglite, openPostgres } from "../../src/db/index.js";
import { createEscalationRepository } from "../../src/escalation/index.js";
import { createIncidentRepository } from "../../src/incidents/index.js";
import { type SandboxServer, startSandboxServer } from "../../src/slack/sandbox/index.js";
import { sandboxSeedFromConfig } from "../../src/slack/sandbox-seed.js";
import { createEmptyPostgresDatabase, TEST_DATABASE_URL, testLogger } from "../helpers/db.js";
import { type BotProcess, freePort, spawnBot, waitForStatus } from "../helpers/process.js";
import { alertmanagerFiring } from "../helpers/signals.js";
import { eventually } from "./incidents-bot.js";

const TOKEN = "xoxb-escalation-recovery";
const API_TOKEN = "mlops_escalation_recovery_token_0123456789";
/** The escalation timer's period in the bot (EscalationFeatureOptions.tickMs default). */
const TICK_MS = 1_000;
/** L1's wait in this test's policy. */
const L1_WAIT_MS = 3_000;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const CONFIG = `
workspace:
  name: acme-ml
  alert_channel: "#mlops-alerts"
  user_groups:
    l1: { handle: mlops-oncall }
    l2: { handle: ds-oncall }
    fraud-ml: { handle: fraud-ml-team }
models:
  - slug: fraud-detector
    name: Fraud detector
    task: binary_classification
    owners: fraud-ml
    alert_channel: "#fraud-alerts"
    features:
      - { name: amount, type: numeric }
escalation:
  default:
    l1: { wait: ${L1_WAIT_MS / 1000}s }
    l2: { wait: 1h }
sandbox:
  channels: ["#mlops-alerts", "#fraud-alerts"]
  users:
    - { id: U0OLIVIA, name: olivia, real_name: Olivia Ops, groups: [l1] }
    - { id: U0DANA, name: dana, real_name: Dana Science, groups: [l2] }
    - { id: U0DEV, name: dev, real_name: Dev Science, groups: [l2] }
    - { id: U0MAYA, name: maya, real_name: Maya Owner, groups: [fraud-ml] }
`;

describe("escalation across a crash", () => {
  it("SIGKILL while L1's deadline is pending: after restart L2 is paged once, at most one timer period late", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlops-escalation-kill-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const configPath = join(dir, "mlops.config.yaml");
    writeFileSync(configPath, CONFIG);
    const config = loadConfig(configPath, {});
    // Slack lives outside the bot, so it outlives the crash and keeps every message.
    const sandbox: SandboxServer = await startSandboxServer({
      token: TOKEN,
      seed: sandboxSeedFromConfig(config),
    });
    cleanups.push(() => sandbox.close());
    const pg = TEST_DATABASE_URL ? await createEmptyPostgresDatabase() : undefined;
    if (pg) cleanups.push(() => pg.drop());
    const port = await freePort();
    const env = {
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      MLOPS_CONFIG: configPath,
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: "escalation-recovery-secret",
      SLACK_API_URL: sandbox.apiUrl,
      MLOPS_API_TOKEN: API_TOKEN,
      ...(pg ? { DATABASE_URL: pg.url } : { MLOPS_DATA_DIR: join(dir, "data") }),
    };
    const started: BotProcess[] = [];
    cleanups.push(() => {
      for (const p of started)
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    });
    const { workspace } = sandbox;

    // First life: the incident opens (its card goes out), then the process is killed before L1's wait ends.
    const first = spawnBot(env);
    started.push(first);
    await waitForStatus(`http://127.0.0.1:${port}/readyz`, 30_000);
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/alertmanager`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(alertmanagerFiring("ScoreDrift", "warning", "Scores drifted")),
    });
    expect(res.status).toBe(200);
    const card = await eventually("the card", () => workspace.messages("fraud-alerts")[0], 15_000);
    await new Promise((r) => setTimeout(r, 1_200));
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    // Nothing was paged before the kill: the deadline was still ahead.
    expect(workspace.thread("fraud-alerts", card.ts).filter((m) => m.text.includes("L2 page"))).toHaveLength(
      0,
    );

    // Stay down past the deadline, then restart.
    await new Promise((r) => setTimeout(r, L1_WAIT_MS));
    const second = spawnBot(env);
    started.push(second);
    await waitForStatus(`http://127.0.0.1:${port}/readyz`, 30_000);
    const readyAt = Date.now();
    await eventually(
      "the L2 page after the restart",
      () => workspace.thread("fraud-alerts", card.ts).some((m) => m.text.includes("L2 page")),
      15_000,
    );
    const dms = (user: string) => workspace.messages(workspace.openDm([user]).channel.id);
    await eventually("both L2 DMs", () => dms("U0DANA").length === 1 && dms("U0DEV").length === 1, 10_000);
    // A few more timer periods: still exactly one page, one DM each, nobody else.
    await new Promise((r) => setTimeout(r, 3 * TICK_MS));
    expect(workspace.thread("fraud-alerts", card.ts).filter((m) => m.text.includes("L2 page"))).toHaveLength(
      1,
    );
    expect(dms("U0DANA")).toHaveLength(1);
    expect(dms("U0DEV")).toHaveLength(1);
    expect(dms("U0MAYA")).toHaveLength(0);
    second.child.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);

    const database: Database = pg
      ? openPostgres(pg.url, testLogger, { max: 1 })
      : await openPglite(join(dir, "data"), testLogger);
    try {
      const incidentId = 1;
      const events = await createIncidentRepository(database.db).timeline(incidentId);
      const escalated = events.filter((e) => e.kind === "escalated");
      expect(escalated.map((e) => [e.actor, e.detail.from, e.detail.to])).toEqual([["timer", 1, 2]]);
      expect(events.filter((e) => e.kind === "paged")).toHaveLength(1);
      const incident = await createIncidentRepository(database.db).byId(incidentId);
      const dueAt = (incident?.openedAt.getTime() ?? 0) + L1_WAIT_MS;
      const at = escalated[0]?.at.getTime() ?? Number.NaN;
      // Not early, and once the bot is back no later than one timer period (plus scheduling slack).
      expect(at).toBeGreaterThanOrEqual(dueAt);
      expect(at).toBeLessThanOrEqual(readyAt + TICK_MS + 250);
      const row = await createEscalationRepository(database.db).byIncident(incidentId);
      expect(row?.tier).toBe(2);
    } finally {
      await database.close();
    }
  }, 90_000);
});
