/**
 * Failing closed at start: the sandbox (which acts as any Slack user for whoever reaches it) is
 * reachable only from this machine unless HOST says otherwise, and only under this machine's names
 * (no DNS rebinding); blank or unpaired Slack credentials, the sandbox against a real database and
 * a short bootstrap token stop the process with exit 78 naming the variable; the first log line
 * says which mode, database and address the process is about to use.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxHostAllowed } from "../../src/bot.js";
import { checkBotEnv, describeDatabase, parseEnv } from "../../src/config/index.js";
import { startTestBot } from "../helpers/bot.js";
import { createEmptyPostgresDatabase, TEST_DATABASE_URL } from "../helpers/db.js";
import { type BotProcess, freePort, spawnBot, waitForStatus } from "../helpers/process.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "mlops-failclosed-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function stop(bot: BotProcess): Promise<void> {
  if (bot.child.exitCode === null && bot.child.signalCode === null) bot.child.kill("SIGTERM");
  await bot.exited;
}

/** GET over a real socket to `address:port` with the given Host header. */
function get(address: string, port: number, path: string, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, headers: host ? { host } : {} }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Waits until the process has printed `text`. */
async function printed(bot: BotProcess, text: string, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!bot.output().includes(text)) {
    if (Date.now() - started > timeoutMs) throw new Error(`no "${text}" in:\n${bot.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("network reachability of the sandbox", () => {
  it("with no HOST the sandbox listens on 127.0.0.1 only; the first log line names mode, database and address", async () => {
    const port = await freePort();
    const dataDir = tempDir();
    const bot = spawnBot({ PORT: String(port), MLOPS_DATA_DIR: dataDir, LOG_FORMAT: "json" });
    try {
      await waitForStatus(`http://127.0.0.1:${port}/readyz`, 30_000);
      // 127.0.0.2 is another address of this machine: a server on 0.0.0.0 answers there (see the
      // next test), one on 127.0.0.1 does not, nor on any other interface.
      await expect(get("127.0.0.2", port, "/healthz")).rejects.toMatchObject({ code: "ECONNREFUSED" });
      const first = JSON.parse(bot.output().split("\n")[0] as string) as Record<string, unknown>;
      expect(first).toMatchObject({
        mode: "sandbox",
        database: `pglite ${dataDir}`,
        listen: `127.0.0.1:${port}`,
      });
      expect(String(first.msg)).toContain(
        `mode sandbox, database pglite ${dataDir}, listening on 127.0.0.1:${port}`,
      );
      expect(bot.output()).not.toContain("the sandbox acts as any Slack user");
    } finally {
      await stop(bot);
    }
  });

  it("HOST set explicitly is obeyed with a warning, and the sandbox still answers only to this machine's names", async () => {
    const port = await freePort();
    const bot = spawnBot({
      PORT: String(port),
      HOST: "0.0.0.0",
      MLOPS_DATA_DIR: tempDir(),
      LOG_FORMAT: "json",
    });
    try {
      await waitForStatus(`http://127.0.0.1:${port}/readyz`, 30_000);
      await printed(bot, "the sandbox acts as any Slack user");
      expect(await get("127.0.0.2", port, "/healthz")).toBe(200);
      // Reached through another name (a rebinding page's domain, or an address it does not listen as)
      // the sandbox refuses; through localhost it serves.
      expect(await get("127.0.0.2", port, "/sandbox/web/demo", `127.0.0.2:${port}`)).toBe(403);
      expect(await get("127.0.0.1", port, "/sandbox/web/demo", `rebind.example:${port}`)).toBe(403);
      expect(await get("127.0.0.1", port, "/sandbox/incident-log", `rebind.example:${port}`)).toBe(403);
      expect(await get("127.0.0.2", port, "/sandbox/web/demo", `localhost:${port}`)).toBe(200);
    } finally {
      await stop(bot);
    }
  });
});

describe("the Host header of sandbox requests", () => {
  let bot: Awaited<ReturnType<typeof startTestBot>>;
  beforeAll(async () => {
    bot = await startTestBot();
  });
  afterAll(async () => {
    await bot?.close();
  });

  it("a request to /sandbox* naming another host is refused with 403 and acts for nobody", async () => {
    const port = Number(new URL(bot.url).port);
    const before = bot.sandbox.workspace.requireChannel("fraud-alerts");
    const channel = before.id;
    for (const host of [
      `evil.example:${port}`,
      "evil.example",
      `127.0.0.1.nip.io:${port}`,
      `[::2]:${port}`,
    ]) {
      const res = await bot.http.inject({
        method: "POST",
        url: "/sandbox/act/command",
        headers: { host, "content-type": "application/json" },
        payload: JSON.stringify({ user: "U0OLIVIA", channel, text: "/mlops help" }),
      });
      expect(res.statusCode, host).toBe(403);
      expect(res.json(), host).toMatchObject({ error: "forbidden_host" });
      const login = await bot.http.inject({ method: "GET", url: "/sandbox/incident-log", headers: { host } });
      expect(login.statusCode, host).toBe(403);
      expect(login.headers["set-cookie"], host).toBeUndefined();
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, "localhost"]) {
      const res = await bot.http.inject({ method: "GET", url: "/sandbox/incident-log", headers: { host } });
      expect(res.statusCode, host).toBe(303);
    }
    // Only the sandbox is bound to this machine's names; the API and health checks are not.
    expect(
      (await bot.http.inject({ method: "GET", url: "/healthz", headers: { host: "bot.example" } }))
        .statusCode,
    ).toBe(200);
  });

  it("the allowed names are localhost, the loopback addresses and the listen address", () => {
    expect(sandboxHostAllowed("10.1.2.3:3000", { host: "10.1.2.3" })).toBe(true);
    expect(sandboxHostAllowed("10.1.2.4:3000", { host: "10.1.2.3" })).toBe(false);
    expect(sandboxHostAllowed("LOCALHOST:3000", { host: "127.0.0.1" })).toBe(true);
    expect(sandboxHostAllowed(undefined, { host: "127.0.0.1" })).toBe(false);
    expect(sandboxHostAllowed("a b", { host: "127.0.0.1" })).toBe(false);
    expect(sandboxHostAllowed("localhost.evil.example", { host: "127.0.0.1" })).toBe(false);
  });
});

describe("blank, unpaired and misplaced credentials", () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      "both Slack credentials set but empty",
      { SLACK_BOT_TOKEN: "", SLACK_SIGNING_SECRET: "" },
      /SLACK_BOT_TOKEN: set but empty/,
    ],
    ["a whitespace bot token alone", { SLACK_BOT_TOKEN: "   " }, /SLACK_BOT_TOKEN: set but empty/],
    [
      "a whitespace signing secret beside a token",
      { SLACK_BOT_TOKEN: "xoxb-1", SLACK_SIGNING_SECRET: " \t" },
      /SLACK_SIGNING_SECRET: set but empty/,
    ],
    [
      "a signing secret without its token",
      { SLACK_SIGNING_SECRET: "0123456789abcdef" },
      /SLACK_BOT_TOKEN: required when SLACK_SIGNING_SECRET/,
    ],
    [
      "a bot token without its signing secret",
      { SLACK_BOT_TOKEN: "xoxb-1" },
      /SLACK_SIGNING_SECRET: required/,
    ],
    ["an empty DATABASE_URL", { DATABASE_URL: "" }, /DATABASE_URL: set but empty/],
    // The sandbox against a real database would drain its outbox into the imitation and run its runbooks.
    [
      "the sandbox with DATABASE_URL",
      { DATABASE_URL: "postgres://u:secretpw@127.0.0.1:1/db" },
      /DATABASE_URL: set, but no Slack credentials/,
    ],
    [
      "a short MLOPS_API_TOKEN with Slack",
      {
        SLACK_BOT_TOKEN: "xoxb-1",
        SLACK_SIGNING_SECRET: "s3cret",
        SLACK_API_URL: "http://127.0.0.1:1/api/",
        MLOPS_API_TOKEN: "short-token",
      },
      /MLOPS_API_TOKEN: shorter than 16/,
    ],
  ];

  it.each(cases)("%s: exit 78 naming the variable, before anything listens", async (_what, env, message) => {
    const port = await freePort();
    const bot = spawnBot({ PORT: String(port), MLOPS_DATA_DIR: tempDir(), ...env });
    const exit = await bot.exited;
    expect(exit.code, bot.output()).toBe(78);
    expect(bot.output()).toMatch(message);
    expect(bot.output()).not.toContain("secretpw");
    expect(bot.output()).not.toContain("mlops-bot starting");
    await expect(get("127.0.0.1", port, "/healthz")).rejects.toThrow();
  });

  it("MLOPS_SANDBOX=1 says the sandbox is meant; a short token is fine in the sandbox", () => {
    expect(
      describeDatabase(parseEnv({ DATABASE_URL: "postgres://app:hunter2secret@db.internal:5432/mlops" })),
    ).toBe("postgres://app:***@db.internal:5432/mlops");
    expect(() =>
      checkBotEnv(parseEnv({ DATABASE_URL: "postgres://h/db", MLOPS_SANDBOX: "1" })),
    ).not.toThrow();
    expect(() => checkBotEnv(parseEnv({ MLOPS_API_TOKEN: "demo" }))).not.toThrow();
    expect(() =>
      checkBotEnv(parseEnv({ SLACK_BOT_TOKEN: "x", SLACK_SIGNING_SECRET: "s", MLOPS_SANDBOX: "1" })),
    ).toThrow(/MLOPS_SANDBOX/);
    expect(() =>
      checkBotEnv(
        parseEnv({ SLACK_BOT_TOKEN: "x", SLACK_SIGNING_SECRET: "s", MLOPS_API_TOKEN: "0123456789abcdef" }),
      ),
    ).not.toThrow();
  });

  it.runIf(TEST_DATABASE_URL)(
    "with MLOPS_SANDBOX=1 the sandbox runs on Postgres, and the log hides the password",
    async () => {
      const created = await createEmptyPostgresDatabase();
      const port = await freePort();
      const withPassword = new URL(created.url);
      const bot = spawnBot({
        PORT: String(port),
        DATABASE_URL: created.url,
        MLOPS_SANDBOX: "1",
        LOG_FORMAT: "json",
      });
      try {
        await waitForStatus(`http://127.0.0.1:${port}/readyz`, 30_000);
        const first = JSON.parse(bot.output().split("\n")[0] as string) as { mode: string; database: string };
        expect(first.mode).toBe("sandbox");
        expect(first.database).toContain(withPassword.pathname);
        if (withPassword.password) expect(bot.output()).not.toContain(withPassword.password);
      } finally {
        await stop(bot);
        await created.drop();
      }
    },
  );
});
