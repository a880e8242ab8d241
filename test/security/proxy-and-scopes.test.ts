/**
 * Never locking out good clients, and least privilege: behind a trusted proxy (TRUST_PROXY) the
 * failed-auth limiter keys on the forwarded client address and the session cookie is `Secure` when
 * the browser used https; an untrusted sender cannot pick its address by header; a valid token is
 * never refused by the limiter; tokens with scopes reach only their routes; a request whose auth
 * fails is answered before its body is parsed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiTokenService, createApiTokenService } from "../../src/api-tokens/index.js";
import { systemClock } from "../../src/shared/clock.js";
import { startTestBot } from "../helpers/bot.js";

const BOOTSTRAP = "mlops_proxy_scope_bootstrap_0123456789abcdef";
/** The proxy the bot trusts; anything else is a direct client. */
const PROXY = "10.0.0.7";

let bot: Awaited<ReturnType<typeof startTestBot>>;
let tokens: ApiTokenService;

beforeAll(async () => {
  bot = await startTestBot({ env: { TRUST_PROXY: "10.0.0.0/8", MLOPS_API_TOKEN: BOOTSTRAP } });
  tokens = createApiTokenService(bot.database.db, systemClock);
});
afterAll(async () => {
  await bot?.close();
});

function call(
  method: "GET" | "POST",
  url: string,
  opts: {
    token?: string;
    from?: string;
    forwardedFor?: string;
    body?: string;
    headers?: Record<string, string>;
  } = {},
) {
  return bot.http.inject({
    method,
    url,
    remoteAddress: opts.from ?? "127.0.0.1",
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.forwardedFor ? { "x-forwarded-for": opts.forwardedFor } : {}),
      ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
      ...opts.headers,
    },
    ...(opts.body !== undefined ? { payload: opts.body } : {}),
  });
}

const guess = (i: number) => `mlops_${i.toString(16).padStart(40, "0")}`;

describe("behind a trusted proxy", () => {
  it("20 bad tokens from one forwarded client block only that client's bad tokens; its valid token and other clients pass", async () => {
    const good = await tokens.create("proxied-client");
    const guesser = "203.0.113.9";
    for (let i = 0; i < 20; i++) {
      const res = await call("GET", "/api/v1/incidents", {
        token: guess(i),
        from: PROXY,
        forwardedFor: guesser,
      });
      expect(res.statusCode, `guess ${i}`).toBe(401);
    }
    const blocked = await call("GET", "/api/v1/incidents", {
      token: guess(99),
      from: PROXY,
      forwardedFor: guesser,
    });
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
    // Every client arrives from the proxy's address; only the guesser is limited.
    const other = await call("GET", "/api/v1/incidents", {
      token: guess(100),
      from: PROXY,
      forwardedFor: "198.51.100.2",
    });
    expect(other.statusCode).toBe(401);
    for (const client of ["198.51.100.2", "198.51.100.3"])
      expect(
        (await call("GET", "/api/v1/incidents", { token: good, from: PROXY, forwardedFor: client }))
          .statusCode,
      ).toBe(200);
    // A valid token is never refused by the limiter, not even the guesser's own.
    expect(
      (await call("GET", "/api/v1/incidents", { token: good, from: PROXY, forwardedFor: guesser }))
        .statusCode,
    ).toBe(200);
    const login = await bot.http.inject({
      method: "POST",
      url: "/incidents/login",
      remoteAddress: PROXY,
      headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": guesser },
      payload: new URLSearchParams({ token: good, next: "/incidents" }).toString(),
    });
    expect(login.statusCode).toBe(303);
  });

  it("a sender that is not a trusted proxy cannot choose its address with X-Forwarded-For", async () => {
    const direct = "192.0.2.44";
    for (let i = 0; i < 20; i++) {
      const res = await call("GET", "/api/v1/incidents", {
        token: guess(i),
        from: direct,
        forwardedFor: `192.0.2.${100 + i}`,
      });
      expect(res.statusCode, `guess ${i}`).toBe(401);
    }
    const next = await call("GET", "/api/v1/incidents", {
      token: guess(21),
      from: direct,
      forwardedFor: "192.0.2.250",
    });
    expect(next.statusCode).toBe(429);
  });

  it("the incident-log cookie is Secure when the trusted proxy says the browser used https, not when anyone else says so", async () => {
    const signIn = (from: string) =>
      bot.http.inject({
        method: "POST",
        url: "/incidents/login",
        remoteAddress: from,
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-forwarded-proto": "https",
          "x-forwarded-for": "198.51.100.77",
        },
        payload: new URLSearchParams({ token: BOOTSTRAP, next: "/incidents" }).toString(),
      });
    const viaProxy = await signIn(PROXY);
    expect(viaProxy.statusCode).toBe(303);
    expect(String(viaProxy.headers["set-cookie"])).toMatch(/; Secure$/);
    const direct = await signIn("127.0.0.1");
    expect(direct.statusCode).toBe(303);
    expect(String(direct.headers["set-cookie"])).not.toContain("Secure");
  });
});

describe("token scopes", () => {
  const model = "fraud-detector";
  const routes = {
    ingest: ["POST", `/api/v1/models/${model}/predictions`, "[]"],
    labels: ["POST", `/api/v1/models/${model}/labels`, "[]"],
    profiles: ["POST", `/api/v1/models/${model}/profiles`, "{}"],
    alerts: ["POST", "/api/v1/alertmanager", "{}"],
    pipeline: ["POST", `/api/v1/models/${model}/candidates`, "{}"],
    read: ["GET", "/api/v1/incidents", undefined],
    readRuns: ["GET", `/api/v1/models/${model}/runs`, undefined],
    reference: ["POST", `/api/v1/models/${model}/reference`, "{}"],
    monitorRun: ["POST", `/api/v1/models/${model}/monitors/nonsense/run`, undefined],
    cloudevents: ["POST", "/api/v1/ingest/cloudevents", "{}"],
    unpaired: ["GET", "/api/v1/ingest/cloudevents/unpaired", undefined],
  } as const;
  type Route = keyof typeof routes;
  const need: Record<Route, string> = {
    ingest: "ingest",
    labels: "ingest",
    profiles: "ingest",
    alerts: "alerts",
    pipeline: "pipeline",
    read: "read",
    readRuns: "read",
    reference: "admin",
    monitorRun: "admin",
    cloudevents: "ingest",
    unpaired: "read",
  };

  async function statusOf(token: string, route: Route) {
    const [method, url, body] = routes[route];
    const res = await call(method, url, {
      token,
      from: "192.0.2.10",
      ...(body !== undefined ? { body } : {}),
    });
    return { status: res.statusCode, body: res.json() as { error?: string; scope?: string } };
  }

  it("a token reaches exactly the routes of its scopes; elsewhere 403 insufficient_scope naming the scope", async () => {
    for (const scope of ["ingest", "alerts", "pipeline", "read", "admin"]) {
      const token = await tokens.create(`only-${scope}`, [scope]);
      for (const route of Object.keys(routes) as Route[]) {
        const { status, body } = await statusOf(token, route);
        if (need[route] === scope) {
          expect([401, 403], `${scope} → ${route}`).not.toContain(status);
        } else {
          expect(status, `${scope} → ${route}`).toBe(403);
          expect(body, `${scope} → ${route}`).toMatchObject({
            error: "insufficient_scope",
            scope: need[route],
          });
        }
      }
    }
  });

  it("a token made without scopes, and the bootstrap token, may do everything", async () => {
    const all = await tokens.create("everything");
    for (const token of [all, BOOTSTRAP])
      for (const route of Object.keys(routes) as Route[])
        expect([401, 403], route).not.toContain((await statusOf(token, route)).status);
  });

  it("a token with several scopes has each; the incident log needs read, by header and by session", async () => {
    const pipeline = await tokens.create("fraud-pipeline", ["ingest", "pipeline"]);
    expect((await statusOf(pipeline, "ingest")).status).not.toBe(403);
    expect((await statusOf(pipeline, "pipeline")).status).not.toBe(403);
    expect((await statusOf(pipeline, "read")).status).toBe(403);
    expect((await call("GET", "/incidents", { token: pipeline })).statusCode).toBe(403);
    const login = (token: string) =>
      bot.http.inject({
        method: "POST",
        url: "/incidents/login",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: new URLSearchParams({ token, next: "/incidents" }).toString(),
      });
    const refused = await login(pipeline);
    expect(refused.statusCode).toBe(403);
    expect(refused.headers["set-cookie"]).toBeUndefined();
    const reader = await tokens.create("dashboard", ["read"]);
    const ok = await login(reader);
    expect(ok.statusCode).toBe(303);
    const cookie = String(ok.headers["set-cookie"]).split(";")[0] as string;
    expect((await call("GET", "/incidents", { headers: { cookie } })).statusCode).toBe(200);
  });

  it("scope refusals are not counted as bad tokens", async () => {
    const reader = await tokens.create("reader-many", ["read"]);
    for (let i = 0; i < 25; i++)
      expect(
        (await call("POST", routes.ingest[1], { token: reader, from: "192.0.2.77", body: "[]" })).statusCode,
      ).toBe(403);
    expect((await call("GET", "/api/v1/incidents", { token: guess(1), from: "192.0.2.77" })).statusCode).toBe(
      401,
    );
  });
});

describe("tokens and sessions", () => {
  it("a new token given a revoked token's name does not revive the old token's sessions", async () => {
    const first = await tokens.create("laptop");
    const login = await bot.http.inject({
      method: "POST",
      url: "/incidents/login",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({ token: first, next: "/incidents" }).toString(),
    });
    const cookie = String(login.headers["set-cookie"]).split(";")[0] as string;
    expect((await call("GET", "/incidents", { headers: { cookie } })).statusCode).toBe(200);
    await tokens.revoke("laptop");
    const second = await tokens.create("laptop");
    expect((await call("GET", "/incidents", { headers: { cookie } })).statusCode).toBe(303);
    expect((await call("GET", "/api/v1/incidents", { token: first })).statusCode).toBe(401);
    expect((await call("GET", "/api/v1/incidents", { token: second })).statusCode).toBe(200);
  });
});

describe("auth before the body", () => {
  it("a request with no or a bad token is refused before its body is read: 401, not 413 or 400", async () => {
    const huge = JSON.stringify({ status: "firing", alerts: [], pad: "x".repeat(2 * 1024 * 1024) });
    for (const token of [undefined, guess(7)]) {
      for (const [url, body] of [
        ["/api/v1/alertmanager", huge],
        ["/api/v1/alertmanager", "{not json"],
        ["/api/v1/models/fraud-detector/candidates", "{not json"],
        ["/api/v1/models/fraud-detector/predictions", "{not json"],
      ] as const) {
        const res = await call("POST", url, { ...(token ? { token } : {}), from: "192.0.2.200", body });
        expect(res.statusCode, `${url} ${token ?? "no token"} ${body.length}`).toBe(401);
      }
    }
    // With a token the same bodies are looked at: over the limit 413, broken JSON 400.
    expect((await call("POST", "/api/v1/alertmanager", { token: BOOTSTRAP, body: huge })).statusCode).toBe(
      413,
    );
    expect(
      (await call("POST", "/api/v1/alertmanager", { token: BOOTSTRAP, body: "{not json" })).statusCode,
    ).toBe(400);
  });
});
