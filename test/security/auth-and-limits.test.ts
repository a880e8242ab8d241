/**
 * Who may talk to the bot at all: Slack requests must carry a fresh signature over the exact bytes;
 * API callers a live token, and an address that keeps guessing tokens is refused for a while;
 * bodies past each route's limit are refused with 413 before they are parsed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bot } from "../../src/bot.js";
import { FailedAuthLimiter } from "../../src/http/failed-auth-limiter.js";
import { signSlackRequest } from "../../src/slack/signature.js";
import { startTestBot } from "../helpers/bot.js";
import { makeToken } from "../helpers/monitoring.js";

let bot: Bot & { sandbox: NonNullable<Bot["sandbox"]> };
let token: string;
/** The bot's signature clock runs `skewMs` ahead of real time (to replay a request later). */
let skewMs = 0;

beforeAll(async () => {
  bot = await startTestBot({ now: () => Date.now() + skewMs });
  token = await makeToken(bot.database, "security-tests");
});
afterAll(async () => {
  await bot?.close();
});

function signed(body: string, opts: { secret?: string; timestamp?: number } = {}) {
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    "content-type": "application/x-www-form-urlencoded",
    "x-slack-request-timestamp": String(ts),
    "x-slack-signature": signSlackRequest(opts.secret ?? bot.sandbox.signingSecret, ts, body),
  };
}

let triggers = 0;
function commandBody(text: string, user = "U0OLIVIA") {
  return new URLSearchParams({
    token: "sandbox-verification-token",
    team_id: "T0SANDBOX",
    channel_id: bot.sandbox.workspace.requireChannel("fraud-alerts").id,
    channel_name: "fraud-alerts",
    user_id: user,
    user_name: "olivia",
    command: "/mlops",
    text,
    response_url: `${bot.url}/sandbox/response/none`,
    // Unique like Slack's, so two commands never carry the same signature by accident.
    trigger_id: `1.2.${++triggers}`,
  }).toString();
}

async function postSlack(body: string | Buffer, headers: Record<string, string>) {
  const res = await fetch(`${bot.url}/slack/events`, { method: "POST", headers, body });
  return { status: res.status, text: await res.text() };
}

describe("Slack request signatures", () => {
  it("a correctly signed command is answered", async () => {
    const body = commandBody("help");
    expect((await postSlack(body, signed(body))).status).toBe(200);
  });

  it("forged, tampered, unsigned, stale and far-future requests are refused with 401 and reach no listener", async () => {
    const body = commandBody("help");
    const now = Math.floor(Date.now() / 1000);
    const good = signed(body);
    const cases: [string, string, Record<string, string>][] = [
      ["signed with another secret", body, signed(body, { secret: "not-the-signing-secret" })],
      ["body changed after signing", commandBody("models"), good],
      ["signature of another timestamp", body, { ...good, "x-slack-request-timestamp": String(now - 1) }],
      [
        "no signature",
        body,
        { "content-type": good["content-type"], "x-slack-request-timestamp": String(now) },
      ],
      [
        "no timestamp",
        body,
        { "content-type": good["content-type"], "x-slack-signature": good["x-slack-signature"] },
      ],
      ["six minutes old", body, signed(body, { timestamp: now - 360 })],
      ["six minutes ahead", body, signed(body, { timestamp: now + 360 })],
      ["timestamp not a number", body, { ...good, "x-slack-request-timestamp": "1e9" }],
      ["v1 scheme", body, { ...good, "x-slack-signature": good["x-slack-signature"].replace("v0=", "v1=") }],
      ["truncated signature", body, { ...good, "x-slack-signature": good["x-slack-signature"].slice(0, 20) }],
    ];
    await new Promise((r) => setTimeout(r, 1200)); // the request log is batched: let earlier tests' land
    const auditBefore = await auditCount();
    for (const [what, b, headers] of cases) {
      const res = await postSlack(b, headers);
      expect(res.status, what).toBe(401);
      expect(res.text, what).toContain("invalid_signature");
    }
    await new Promise((r) => setTimeout(r, 1200)); // the request log is batched
    expect(await auditCount()).toBe(auditBefore);
  });

  it("a captured request replayed inside the five-minute window is acknowledged and not acted on", async () => {
    const replayed = async () => {
      const text = await (await fetch(`${bot.url}/metrics`)).text();
      return Number(
        /mlops_slack_requests_total\{kind="unknown",outcome="replayed"\} (\d+)/.exec(text)?.[1] ?? 0,
      );
    };
    const before = await replayed();
    const body = commandBody("whoami");
    const headers = signed(body);
    const first = await postSlack(body, headers);
    expect(first.status).toBe(200);
    expect(first.text).not.toBe("");
    for (let i = 0; i < 3; i++) {
      const again = await postSlack(body, headers);
      expect(again.status).toBe(200);
      expect(again.text).toBe("");
    }
    expect(await replayed()).toBe(before + 3);
    // The same command signed again (a new timestamp) is a new request and is answered.
    const fresh = signed(body, { timestamp: Math.floor(Date.now() / 1000) + 1 });
    expect((await postSlack(body, fresh)).text).not.toBe("");
  });

  it("a captured request replayed after the five-minute window is refused", async () => {
    const body = commandBody("whoami");
    const headers = signed(body);
    expect((await postSlack(body, headers)).status).toBe(200);
    skewMs = 6 * 60_000;
    try {
      expect((await postSlack(body, headers)).status).toBe(401);
    } finally {
      skewMs = 0;
    }
  });
});

async function auditCount(): Promise<number> {
  const rows = (await bot.database.db.execute("select count(*)::int as n from audit_log")) as unknown;
  const list = Array.isArray(rows) ? rows : (rows as { rows: { n: number }[] }).rows;
  return Number((list[0] as { n: number }).n);
}

describe("API token guessing", () => {
  it("after 20 bad tokens an address gets 429 with Retry-After for bad tokens, a good token still passes; other addresses are unaffected", async () => {
    const call = (auth: string, remoteAddress = "127.0.0.1") =>
      bot.http.inject({
        method: "GET",
        url: "/api/v1/incidents",
        headers: { authorization: auth },
        remoteAddress,
      });
    const guesser = "203.0.113.7";
    expect((await call(`Bearer ${token}`, guesser)).statusCode).toBe(200);
    for (let i = 0; i < 20; i++) {
      const res = await call(`Bearer mlops_${i.toString(16).padStart(40, "0")}`, guesser);
      expect(res.statusCode, `guess ${i}`).toBe(401);
    }
    const blocked = await call("Bearer mlops_ffffffffffffffffffffffffffffffffffffffff", guesser);
    expect(blocked.statusCode).toBe(429);
    const retryAfter = Number(blocked.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // A valid token is never refused by the limiter: behind a proxy every client shares an
    // address, and one client's guessing must not lock out the others.
    expect((await call(`Bearer ${token}`, guesser)).statusCode).toBe(200);
    // The budget is shared by every API route scope (ingest too), not granted per plugin.
    const ingest = await bot.http.inject({
      method: "POST",
      url: "/api/v1/models/fraud-detector/predictions",
      headers: { authorization: "Bearer mlops_not_a_token", "content-type": "application/json" },
      payload: "[]",
      remoteAddress: guesser,
    });
    expect(ingest.statusCode).toBe(429);
    // Someone else is served as usual.
    expect((await call(`Bearer ${token}`, "198.51.100.1")).statusCode).toBe(200);
  });

  it("the limiter forgets an address once its window has passed, and only counts failures", () => {
    let now = 0;
    const limiter = new FailedAuthLimiter(3, 1000, () => now);
    limiter.fail("a");
    limiter.fail("a");
    expect(limiter.blockedFor("a")).toBe(0);
    limiter.fail("a");
    expect(limiter.blockedFor("a")).toBe(1000);
    expect(limiter.blockedFor("b")).toBe(0);
    now = 999;
    expect(limiter.blockedFor("a")).toBe(1);
    now = 1000;
    expect(limiter.blockedFor("a")).toBe(0);
    limiter.fail("a");
    expect(limiter.blockedFor("a")).toBe(0);
  });
});

describe("request size limits", () => {
  it("a Slack body over 1 MB is 413", async () => {
    const body = commandBody("x".repeat(1024 * 1024 + 10));
    expect((await postSlack(body, signed(body))).status).toBe(413);
  });

  it("an Alertmanager body over 1 MB is 413 and a predictions body over 32 MB is 413; nothing stored", async () => {
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const am = await fetch(`${bot.url}/api/v1/alertmanager`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ status: "firing", alerts: [], pad: "x".repeat(1024 * 1024 + 10) }),
    });
    expect(am.status).toBe(413);
    const rows = Array.from({ length: 60_000 }, (_, i) => ({ id: `big${i}`, pad: "y".repeat(560) }));
    const big = JSON.stringify(rows);
    expect(big.length).toBeGreaterThan(32 * 1024 * 1024);
    const ingest = await fetch(`${bot.url}/api/v1/models/fraud-detector/predictions`, {
      method: "POST",
      headers: auth,
      body: big,
    });
    expect(ingest.status).toBe(413);
    expect(await ingest.json()).toMatchObject({ error: "body_too_large" });
    const count = (await bot.database.db.execute(
      "select (select count(*) from predictions)::int as p, (select count(*) from alerts)::int as a",
    )) as unknown;
    const list = Array.isArray(count) ? count : (count as { rows: unknown[] }).rows;
    expect(list[0]).toEqual({ p: 0, a: 0 });
  });
});
