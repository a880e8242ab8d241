import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AUDIT_FLUSH_MS, createAuditRepository } from "../../src/audit/index.js";
import { openPglite } from "../../src/db/index.js";
import { testLogger } from "../helpers/db.js";
import { freePort, spawnBot, waitForStatus } from "../helpers/process.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function sendCommand(port: number, text: string, user = "olivia") {
  const res = await fetch(`http://127.0.0.1:${port}/sandbox/act/command`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user, channel: "fraud-alerts", text }),
  });
  return { status: res.status, body: (await res.json()) as { status: number; body: unknown } };
}

describe("the embedded database across crashes", () => {
  it("after SIGKILL mid-traffic, the next start comes up with its data", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mlops-kill-"));
    dirs.push(dataDir);
    const port = await freePort();
    const env = { PORT: String(port), HOST: "127.0.0.1", MLOPS_DATA_DIR: dataDir };

    const first = spawnBot(env);
    await waitForStatus(`http://127.0.0.1:${port}/readyz`, 30_000);
    const answered = await sendCommand(port, "/mlops help");
    expect(answered.body.status).toBe(200);
    // Give the batched request log time to write the help command (it is flushed within AUDIT_FLUSH_MS).
    await new Promise((r) => setTimeout(r, AUDIT_FLUSH_MS + 400));
    // Keep commands in flight while the process is killed.
    const inFlight = Array.from({ length: 20 }, (_, i) => sendCommand(port, `models ${i}`).catch(() => null));
    await new Promise((r) => setTimeout(r, 30));
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    await Promise.all(inFlight);

    const second = spawnBot(env);
    try {
      await waitForStatus(`http://127.0.0.1:${port}/readyz`, 30_000);
      const again = await sendCommand(port, "/mlops models", "dana");
      expect(again.body.status).toBe(200);
    } finally {
      second.child.kill("SIGTERM");
    }
    expect((await second.exited).code).toBe(0);

    // Both runs' records are there: the acknowledged help from before the kill and the models after.
    const database = await openPglite(dataDir, testLogger);
    try {
      expect(await database.migrationsCurrent()).toBe(true);
      const rows = await createAuditRepository(database.db).recent({ limit: 100 });
      const actions = rows.map((r) => `${r.actor}:${r.action}`);
      expect(actions).toContain("U0OLIVIA:command.help");
      expect(actions).toContain("U0DANA:command.models");
    } finally {
      await database.close();
    }
  });

  it("refuses a second live process on the same data directory with a clear message", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mlops-lock-"));
    dirs.push(dataDir);
    const port = await freePort();
    const first = spawnBot({ PORT: String(port), HOST: "127.0.0.1", MLOPS_DATA_DIR: dataDir });
    try {
      await waitForStatus(`http://127.0.0.1:${port}/readyz`, 30_000);
      const second = spawnBot({ PORT: String(await freePort()), HOST: "127.0.0.1", MLOPS_DATA_DIR: dataDir });
      const exit = await second.exited;
      expect(exit.code).not.toBe(0);
      expect(second.output()).toMatch(/in use by process \d+/);
      // The first one is unharmed.
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      first.child.kill("SIGTERM");
    }
    expect((await first.exited).code).toBe(0);
  });
});
