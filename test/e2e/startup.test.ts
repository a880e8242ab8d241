import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, spawnBot, waitForStatus } from "../helpers/process.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mlops-start-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// Each test starts a process with the embedded database: the 30 s wait for ready, then a clean exit.
describe("starting the bot as a process", { timeout: 60_000 }, () => {
  it("comes up with no Slack or database settings (PGlite + sandbox), answers health checks, and stops on SIGTERM", async () => {
    const port = await freePort();
    const bot = spawnBot({ PORT: String(port), HOST: "127.0.0.1", MLOPS_DATA_DIR: tempDir() });
    try {
      await waitForStatus(`http://127.0.0.1:${port}/readyz`, 30_000);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      const ready = await (await fetch(`http://127.0.0.1:${port}/readyz`)).json();
      expect(ready).toEqual({ status: "ready", database: "pglite" });
      expect(bot.output()).toContain("Slack sandbox ready");
    } finally {
      bot.child.kill("SIGTERM");
    }
    expect(await bot.exited).toEqual({ code: 0, signal: null });
    expect(bot.output()).toContain("mlops-bot stopped");
  });

  // One start per test: each start of the embedded database takes its own share of the time limit.
  const logOf = async (format: string) => {
    const port = await freePort();
    const bot = spawnBot({
      PORT: String(port),
      HOST: "127.0.0.1",
      MLOPS_DATA_DIR: tempDir(),
      LOG_FORMAT: format,
    });
    try {
      await waitForStatus(`http://127.0.0.1:${port}/readyz`, 30_000);
    } finally {
      bot.child.kill("SIGTERM");
    }
    expect(await bot.exited).toEqual({ code: 0, signal: null });
    return bot.output();
  };

  it("logs JSON lines by default when not on a terminal", async () => {
    expect(await logOf("auto")).toMatch(/^\{"level":30,.*"msg":"mlops-bot is listening"\}$/m);
  });

  it("logs readable lines with LOG_FORMAT=pretty", async () => {
    const pretty = await logOf("pretty");
    expect(pretty).toMatch(/INFO.*mlops-bot is listening/);
    expect(pretty).not.toMatch(/^\{"level"/m);
  });

  it("a SIGTERM while it is still starting waits for the start, then shuts down cleanly", async () => {
    const port = await freePort();
    const bot = spawnBot({ PORT: String(port), HOST: "127.0.0.1", MLOPS_DATA_DIR: tempDir() });
    const started = Date.now();
    while (!bot.output().includes("mlops-bot starting") && Date.now() - started < 30_000) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(bot.output()).toContain("mlops-bot starting");
    expect(bot.output()).not.toContain("is listening");
    bot.child.kill("SIGTERM");
    expect(await bot.exited).toEqual({ code: 0, signal: null });
    expect(bot.output()).toContain("mlops-bot stopped");
  });

  const badConfigs: [string, (s: string) => string, RegExp][] = [
    [
      "a wrong type",
      (s) => s.replace("confidence_threshold: 0.75", "confidence_threshold: [high]"),
      /models\[0\]\.confidence_threshold \(line \d+\): expected number, received array/,
    ],
    [
      "an unknown key",
      (s) =>
        s.replace(
          '  alert_channel: "#mlops-alerts"',
          '  alert_channel: "#mlops-alerts"\n  alert_chanel: oops',
        ),
      /workspace\.alert_chanel \(line \d+\): unknown key 'alert_chanel'/,
    ],
    [
      "a missing required key",
      (s) => s.replace(/ {4}features:\n( {6}- .*\n)+/, ""),
      /models\[0\]\.features .*required key missing/,
    ],
  ];

  for (const [what, edit, message] of badConfigs) {
    it(`exits non-zero before listening when the config has ${what}, naming the key`, async () => {
      const { readFileSync } = await import("node:fs");
      const demo = readFileSync(new URL("../../mlops.config.yaml", import.meta.url), "utf8");
      const edited = edit(demo);
      expect(edited).not.toBe(demo);
      const file = join(tempDir(), "bad.yaml");
      writeFileSync(file, edited);
      const port = await freePort();
      const bot = spawnBot({
        PORT: String(port),
        HOST: "127.0.0.1",
        MLOPS_CONFIG: file,
        MLOPS_DATA_DIR: tempDir(),
      });
      const exit = await bot.exited;
      expect(exit.code).toBe(78);
      expect(bot.output()).toContain(`Invalid configuration in ${file}`);
      expect(bot.output()).toMatch(message);
      expect(bot.output()).not.toContain("listening");
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    });
  }

  it("exits non-zero naming the variable when the environment is invalid", async () => {
    const bot = spawnBot({ PORT: "not-a-port", MLOPS_DATA_DIR: tempDir() });
    const exit = await bot.exited;
    expect(exit.code).toBe(78);
    expect(bot.output()).toMatch(/PORT: /);
  });
});
