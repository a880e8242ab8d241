import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { openPglite } from "../../src/db/index.js";
import { createOutboxRepository } from "../../src/outbox/index.js";
import { type SandboxServer, startSandboxServer } from "../../src/slack/sandbox/index.js";
import { sandboxSeedFromConfig } from "../../src/slack/sandbox-seed.js";
import { demoConfig } from "../helpers/bot.js";
import { createEmptyPostgresDatabase, TEST_DATABASE_URL, testLogger } from "../helpers/db.js";
import { type BotProcess, freePort, spawnBot, waitForStatus } from "../helpers/process.js";
import { alertmanagerFiring } from "../helpers/signals.js";
import { eventually } from "./incidents-bot.js";

const TOKEN = "xoxb-recovery-test";
const API_TOKEN = "mlops_recovery_test_token_0123456789";
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe("a crash between commit and delivery", () => {
  it("SIGKILL after the alert committed but before Slack got it: delivered after restart, exactly once", async () => {
    // Slack lives outside the bot process here, so it outlives the crash and its log shows every call.
    const sandbox: SandboxServer = await startSandboxServer({
      token: TOKEN,
      seed: sandboxSeedFromConfig(demoConfig()),
    });
    cleanups.push(() => sandbox.close());
    const pg = TEST_DATABASE_URL ? await createEmptyPostgresDatabase() : undefined;
    const dataDir = mkdtempSync(join(tmpdir(), "mlops-outbox-kill-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    if (pg) cleanups.push(() => pg.drop());
    const port = await freePort();
    const env = {
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: "recovery-test-secret",
      SLACK_API_URL: sandbox.apiUrl,
      MLOPS_API_TOKEN: API_TOKEN,
      ...(pg ? { DATABASE_URL: pg.url } : { MLOPS_DATA_DIR: dataDir }),
    };
    const started: BotProcess[] = [];
    cleanups.push(() => {
      for (const p of started)
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    });

    // First life: Slack fails every post, the alert is committed, the process is killed.
    sandbox.workspace.faults.add({ method: "chat.postMessage", kind: "http_error", status: 503 });
    const first = spawnBot(env);
    started.push(first);
    await waitForStatus(`http://127.0.0.1:${port}/readyz`, 30_000);
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/alertmanager`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(alertmanagerFiring("ScorerDown", "warning", "The fraud scorer is not answering")),
    });
    expect(res.status).toBe(200);
    await eventually("a failed delivery attempt", () =>
      sandbox.workspace.requests("chat.postMessage").some((r) => r.status === 503),
    );
    if (pg) {
      // Kill while the row waits out its backoff (not mid-call), so the kill falls between commit and delivery.
      const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
      cleanups.push(() => sql.end({ timeout: 1 }));
      await eventually("the row to wait for its retry", async () => {
        const [row] = await sql<{ state: string; wait: number }[]>`
          select state, extract(epoch from available_at - now()) * 1000 as wait from outbox order by id limit 1`;
        return row?.state === "pending" && Number(row.wait) > 300;
      });
    }
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    expect(sandbox.workspace.messages("fraud-alerts")).toEqual([]);

    // Second life: Slack is back; the committed card goes out once.
    sandbox.workspace.faults.clear();
    const second = spawnBot(env);
    started.push(second);
    await waitForStatus(`http://127.0.0.1:${port}/readyz`, 30_000);
    const card = await eventually(
      "the card after the restart",
      () => sandbox.workspace.messages("fraud-alerts")[0],
      15_000,
    );
    expect(card.text).toMatch(/^INC-1 \[open\] The fraud scorer is not answering/);
    await new Promise((r) => setTimeout(r, 1500));
    expect(sandbox.workspace.messages("fraud-alerts")).toHaveLength(1);
    expect(sandbox.workspace.requests("chat.postMessage").filter((r) => r.status === 200)).toHaveLength(1);
    second.child.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);

    const database = pg ? undefined : await openPglite(dataDir, testLogger);
    if (database) {
      const rows = await createOutboxRepository(database.db).all();
      expect(rows.map((r) => [r.method, r.state, r.resultTs])).toEqual([
        ["chat.postMessage", "sent", card.ts],
      ]);
      await database.close();
    }
  }, 90_000);
});
