import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/index.js";
import type { Database } from "../../src/db/index.js";
import { pagerRoutes } from "../../src/http/pager-routes.js";
import {
  createPagerRepository,
  createPagerService,
  createPagerWorker,
  OPSGENIE_SECRET_HEADER,
  pagerQueue,
} from "../../src/pagers/index.js";
import { signWebhook } from "../../src/retraining/adapters.js";
import { oneModelConfigInput } from "../helpers/bot.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";
import { ogWebhook, startFakeOpsgenie } from "../helpers/fake-opsgenie.js";
import { driftFinding } from "../helpers/signals.js";
import { freshSubject, incidentServices, manualClock } from "../incidents/fixture.js";

const OG_KEY = "og-api-key-0123456789";
const OG_SECRET = "og-shared-secret-0123456789";
const HOOK_SECRET = "hook-secret-0123456789abcdef";
const MIN = 60_000;

const clock = manualClock();
let database: Database;
let og: Awaited<ReturnType<typeof startFakeOpsgenie>>;
const received: { headers: Record<string, unknown>; body: string }[] = [];
const receiver = createServer((req, res) => {
  let body = "";
  req.on("data", (c: Buffer) => {
    body += c.toString("utf8");
  });
  req.on("end", () => {
    received.push({ headers: req.headers, body });
    res.writeHead(204).end();
  });
});
let env: Awaited<ReturnType<typeof setUp>>;

async function setUp() {
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/page`;
  const config = configSchema.parse(
    oneModelConfigInput({
      alerting: { group_by: ["model", "monitor", "subject"] },
      pagers: {
        og: {
          type: "opsgenie",
          api_key: OG_KEY,
          api_url: og.url,
          webhook_secret: OG_SECRET,
          responders: [{ type: "team", name: "data-science" }],
          users: { "dana@example.com": "U0DANA" },
        },
        hook: { type: "webhook", url: hookUrl, secret: HOOK_SECRET, users: { dana: "U0DANA" } },
      },
    }),
  );
  const services = incidentServices(database, config, clock);
  const deps = { db: database.db, clock, config, logger: testLogger, act: services.incidents.act };
  const pagers = createPagerService(deps);
  const worker = createPagerWorker(deps);
  const http = Fastify();
  await http.register(pagerRoutes({ config, pagers, clock, logger: testLogger }));
  return { services, worker, http };
}

beforeAll(async () => {
  database = await openTestDatabase();
  og = await startFakeOpsgenie(OG_KEY);
  env = await setUp();
});
afterAll(async () => {
  await env?.http.close();
  await og?.close();
  receiver.close();
  await database?.close();
});

async function openIncident(rules: { pager: string; afterMs: number }[]) {
  const [outcome] = await env.services.intake.process([
    driftFinding(freshSubject(), { observedAt: clock.now(), severity: "critical" }),
  ]);
  const incident = await env.services.incidents.get(outcome?.incidentId ?? -1);
  await pagerQueue().queue(database.db, { incident, tier: 2, step: 1, rules, now: clock.now() });
  return { incident, ref: `INC-${incident.id}` };
}

const timeline = (id: number) => env.services.incidents.timeline(id);
const ogOps = (ref: string) => og.requests.filter((r) => r.alias === ref).map((r) => r.op);

function post(name: string, body: string, headers: Record<string, string>) {
  return env.http.inject({ method: "POST", url: `/api/v1/pagers/${name}/webhook`, payload: body, headers });
}

describe("Opsgenie through the Alert API and its outgoing webhook", () => {
  it("creates the alert with alias = ref, acknowledges back as the mapped user, and closes on resolve", async () => {
    const { incident, ref } = await openIncident([{ pager: "og", afterMs: 0 }]);
    await env.worker.tick();
    expect(ogOps(ref)).toEqual(["create"]);
    const created = og.requests.find((r) => r.alias === ref);
    expect(created?.body).toMatchObject({
      alias: ref,
      priority: "P1",
      responders: [{ type: "team", name: "data-science" }],
    });

    // The wrong shared secret: 401, nothing written.
    const before = (await timeline(incident.id)).length;
    const bad = await post("og", ogWebhook("Acknowledge", ref, "dana@example.com"), {
      "content-type": "application/json",
      [OPSGENIE_SECRET_HEADER]: "og-shared-secret-guessed-0000",
    });
    expect(bad.statusCode).toBe(401);
    expect((await env.services.incidents.get(incident.id)).state).toBe("open");
    expect((await timeline(incident.id)).length).toBe(before);

    const good = await post("og", ogWebhook("Acknowledge", ref, "dana@example.com"), {
      "content-type": "application/json",
      [OPSGENIE_SECRET_HEADER]: OG_SECRET,
    });
    expect(good.statusCode).toBe(202);
    const acked = await env.services.incidents.get(incident.id);
    expect([acked.state, acked.acknowledgedBy]).toEqual(["acknowledged", "U0DANA"]);
    const event = (await timeline(incident.id)).find((e) => e.kind === "acknowledged");
    expect([event?.via, event?.detail.answeredFrom]).toEqual(["pager", "Opsgenie"]);

    await env.services.incidents.act({
      incidentId: incident.id,
      action: "resolve",
      actor: "U0DANA",
      via: "command",
    });
    await env.worker.tick();
    await env.worker.tick();
    // Closed, and never told the acknowledgement it sent us.
    expect(ogOps(ref)).toEqual(["create", "close"]);
  });

  it("honours Retry-After when throttled, records the failed attempt, and creates the alert later", async () => {
    og.setMode("throttle");
    const { incident, ref } = await openIncident([{ pager: "og", afterMs: 0 }]);
    await env.worker.tick();
    og.setMode("ok");
    const [call] = (await database.db.query.adapterCalls.findMany()).filter(
      (c) => c.kind === "pager" && (c.payload as { ref?: string }).ref === ref,
    );
    expect(call?.state).toBe("pending");
    expect(call?.availableAt.getTime()).toBeGreaterThanOrEqual(clock.now().getTime() + 30_000);
    const failed = (await timeline(incident.id)).filter((e) => e.kind === "pager_failed");
    expect(failed.map((e) => [e.detail.final, String(e.detail.error).slice(0, 8)])).toEqual([
      [false, "HTTP 429"],
    ]);
    clock.advance(20_000);
    await env.worker.tick();
    expect(ogOps(ref)).toEqual([]);
    clock.advance(11_000);
    await env.worker.tick();
    expect(ogOps(ref)).toEqual(["create"]);
  });

  it("a rule with a wait pages nobody once the incident is acknowledged, and says so in the timeline", async () => {
    const { incident, ref } = await openIncident([{ pager: "og", afterMs: 5 * MIN }]);
    await env.worker.tick();
    await env.services.incidents.act({
      incidentId: incident.id,
      action: "acknowledge",
      actor: "U0DANA",
      via: "button",
    });
    clock.advance(6 * MIN);
    await env.worker.tick();
    await env.worker.tick();
    expect(ogOps(ref)).toEqual([]);
    const skipped = (await timeline(incident.id)).filter((e) => e.kind === "pager_skipped");
    expect(skipped).toHaveLength(1);
  });
});

describe("a generic signed webhook", () => {
  it("sends a signed trigger, and a signed answer back acknowledges; a stale one is refused", async () => {
    const { incident, ref } = await openIncident([{ pager: "hook", afterMs: 0 }]);
    await env.worker.tick();
    const sent = received.find((r) => r.body.includes(ref));
    expect(sent).toBeDefined();
    const ts = Number(sent?.headers["x-mlops-timestamp"]);
    expect(sent?.headers["x-mlops-signature"]).toBe(signWebhook(HOOK_SECRET, ts, sent?.body ?? ""));
    expect(JSON.parse(sent?.body ?? "{}")).toMatchObject({
      event: "page.trigger",
      incident: ref,
      severity: "critical",
    });

    const answer = JSON.stringify({ action: "acknowledge", incident: ref, user: "dana" });
    const old = Math.floor(clock.now().getTime() / 1000) - 600;
    const stale = await post("hook", answer, {
      "content-type": "application/json",
      "x-mlops-timestamp": String(old),
      "x-mlops-signature": signWebhook(HOOK_SECRET, old, answer),
    });
    expect(stale.statusCode).toBe(401);
    expect((await env.services.incidents.get(incident.id)).state).toBe("open");

    const now = Math.floor(clock.now().getTime() / 1000);
    const fresh = await post("hook", answer, {
      "content-type": "application/json",
      "x-mlops-timestamp": String(now),
      "x-mlops-signature": signWebhook(HOOK_SECRET, now, answer),
    });
    expect(fresh.statusCode).toBe(202);
    expect((await env.services.incidents.get(incident.id)).acknowledgedBy).toBe("U0DANA");
  });

  it("an answer from someone not in the pager's users changes nothing but is in the timeline", async () => {
    const { incident, ref } = await openIncident([{ pager: "hook", afterMs: 0 }]);
    await env.worker.tick();
    const answer = JSON.stringify({ action: "acknowledge", incident: ref, user: "stranger" });
    const now = Math.floor(clock.now().getTime() / 1000);
    const res = await post("hook", answer, {
      "content-type": "application/json",
      "x-mlops-timestamp": String(now),
      "x-mlops-signature": signWebhook(HOOK_SECRET, now, answer),
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ outcome: "unmapped" });
    expect((await env.services.incidents.get(incident.id)).state).toBe("open");
    expect((await timeline(incident.id)).some((e) => e.kind === "pager_answer_unmapped")).toBe(true);
    expect(await createPagerRepository(database.db).triggered(incident.id, "hook")).toBe(true);
  });
});
