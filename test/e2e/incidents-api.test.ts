import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alerts, incidents } from "../../src/db/schema/index.js";
import { API_TOKEN, cardOf, eventually, type IncidentBot, startIncidentBot } from "./incidents-bot.js";

let bot: IncidentBot;
beforeAll(async () => {
  // Every shipped feature, as `npm start` runs them: the webhook reaches incidents through createFeatures.
  bot = await startIncidentBot({ allFeatures: true });
});
afterAll(async () => {
  await bot?.close();
});

const auth = { authorization: `Bearer ${API_TOKEN}` };

async function api(
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  headers: Record<string, string> = auth,
) {
  const res = await fetch(`${bot.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A webhook body as Alertmanager 0.27 sends it, plus a field from some future version. */
function alertmanagerPayload(status: "firing" | "resolved", over: Record<string, string> = {}) {
  const labels = {
    alertname: "FraudScorerLatencyHigh",
    model: "fraud-detector",
    severity: "critical",
    job: "fraud-scorer",
    instance: "10.0.3.7:8081",
    ...over,
  };
  return {
    receiver: "mlops-bot",
    status,
    alerts: [
      {
        status,
        labels,
        annotations: {
          summary: "p99 latency of the fraud scorer is above 300 ms",
          description: "p99 latency is 812 ms over the last 5 minutes <check the GC>.",
          runbook_url: "https://runbooks.example.com/fraud-latency",
          value: "0.812",
        },
        startsAt: "2030-01-01T12:00:00.123456789Z",
        endsAt: status === "firing" ? "0001-01-01T00:00:00Z" : "2030-01-01T12:25:00.5Z",
        generatorURL:
          "http://prometheus.example.com:9090/graph?g0.expr=histogram_quantile%280.99%2C+rate%28scorer_seconds_bucket%5B5m%5D%29%29+%3E+0.3",
        fingerprint: "c9a1e6b6f3d6a2b1",
      },
    ],
    groupLabels: { alertname: "FraudScorerLatencyHigh" },
    commonLabels: labels,
    commonAnnotations: { summary: "p99 latency of the fraud scorer is above 300 ms" },
    externalURL: "http://alertmanager.example.com:9093",
    version: "4",
    groupKey: '{}/{model="fraud-detector"}:{alertname="FraudScorerLatencyHigh"}',
    truncatedAlerts: 0,
    tenant: { id: "acme", region: "eu" },
  };
}

async function tableCounts() {
  const [a] = await bot.database.db.select({ n: count() }).from(alerts);
  const [i] = await bot.database.db.select({ n: count() }).from(incidents);
  return { alerts: a?.n, incidents: i?.n };
}

describe("POST /api/v1/alertmanager", () => {
  it("a firing payload opens an incident with a card; its resolved payload resolves it", async () => {
    const fired = await api("POST", "/api/v1/alertmanager", alertmanagerPayload("firing"));
    expect(fired.status).toBe(200);
    expect(fired.body).toMatchObject({ status: "ok", alerts: 1, incidents: [{ effect: "opened" }] });
    const ref = (fired.body.incidents as { ref: string }[])[0]?.ref as string;
    const card = await eventually("the card", () => cardOf(bot, "fraud-alerts", ref));
    expect(card.text).toContain("p99 latency of the fraud scorer is above 300 ms");
    expect(JSON.stringify(card.blocks)).toContain("&lt;check the GC&gt;");

    const resolved = await api("POST", "/api/v1/alertmanager", alertmanagerPayload("resolved"));
    expect(resolved.body).toMatchObject({ status: "ok", incidents: [{ effect: "resolved", ref }] });

    const detail = await api("GET", `/api/v1/incidents/${ref}`);
    expect(detail.status).toBe(200);
    expect(detail.body.incident).toMatchObject({
      ref,
      state: "resolved",
      model: "fraud-detector",
      monitor: "FraudScorerLatencyHigh",
      subject: "c9a1e6b6f3d6a2b1",
      severity: "critical",
      severitySetBy: null,
      resolvedBy: "alertmanager",
      owner: null,
      lastUpdateAt: null,
      updateDueAt: null,
    });
    expect(detail.body.alert).toMatchObject({
      state: "resolved",
      lastSeenAt: "2030-01-01T12:25:00.500Z",
      metrics: { value: 0.812 },
    });
    // The escalation timer freezes its policy whenever its tick first sees the incident: not part of this story.
    const kinds = (detail.body.timeline as { kind: string; actor: string }[])
      .filter((e) => e.kind !== "policy_snapshot")
      .map((e) => `${e.kind}:${e.actor}`);
    expect(kinds).toEqual([
      "opened:alertmanager",
      "alert_resolved:alertmanager",
      "resolved:alertmanager",
      "posted:system",
      "posted:system",
    ]);
    // The second post is the review draft, a file in the thread.
    await eventually("the review draft in the thread", () =>
      bot.sandbox.workspace
        .thread("fraud-alerts", card.ts)
        .flatMap((m) => m.files)
        .some((id) => bot.sandbox.workspace.file(id)?.name === `${ref}-review.md`),
    );
    await eventually("the summary in the thread", () =>
      bot.sandbox.workspace
        .thread("fraud-alerts", card.ts)
        .some((m) => m.text.includes("resolved* by alertmanager")),
    );
    expect((await api("GET", `/api/v1/incidents/${ref}`)).body.slack).toMatchObject({ ts: card.ts });
  });

  it("an alert without a known model label is refused with the reason and nothing is recorded", async () => {
    const before = await tableCounts();
    const res = await api(
      "POST",
      "/api/v1/alertmanager",
      alertmanagerPayload("firing", { model: "churn-model" }),
    );
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([
      { path: "alerts.0.labels.model", message: "unknown model 'churn-model'" },
    ]);
    const { model: _gone, ...noModel } = alertmanagerPayload("firing").alerts[0]?.labels ?? {};
    const missing = alertmanagerPayload("firing");
    (missing.alerts[0] as { labels: Record<string, string> }).labels = noModel;
    expect((await api("POST", "/api/v1/alertmanager", missing)).status).toBe(400);
    expect(await tableCounts()).toEqual(before);
  });

  it("a label or annotation Postgres cannot store (NUL, a lone surrogate) gets 400 naming it, not a 500", async () => {
    const before = await tableCounts();
    const nul = alertmanagerPayload("firing", { team: "fraud\u0000ops" });
    const res = await api("POST", "/api/v1/alertmanager", nul);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.issues)).toContain("NUL");
    const surrogate = alertmanagerPayload("firing");
    (surrogate.alerts[0] as { annotations: Record<string, string> }).annotations = {
      summary: "cut \ud800 here",
    };
    expect((await api("POST", "/api/v1/alertmanager", surrogate)).status).toBe(400);
    const key = alertmanagerPayload("firing");
    const labels = (key.alerts[0] as { labels: Record<string, string> }).labels;
    labels["bad\ud800key"] = "x";
    expect((await api("POST", "/api/v1/alertmanager", key)).status).toBe(400);
    expect(await tableCounts()).toEqual(before);
  });

  it("a body that is not an Alertmanager webhook gets 400 with the zod issues; no token gets 401", async () => {
    const before = await tableCounts();
    const bad = await api("POST", "/api/v1/alertmanager", { status: "firing", alerts: [{ labels: {} }] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.issues)).toContain("startsAt");
    expect((await api("POST", "/api/v1/alertmanager", alertmanagerPayload("firing"), {})).status).toBe(401);
    expect(
      (
        await api("POST", "/api/v1/alertmanager", alertmanagerPayload("firing"), {
          authorization: "Bearer nope",
        })
      ).status,
    ).toBe(401);
    expect(await tableCounts()).toEqual(before);
  });
});

describe("GET /api/v1/incidents", () => {
  it("filters by state, model and since, and refuses unknown states", async () => {
    const fired = await api(
      "POST",
      "/api/v1/alertmanager",
      alertmanagerPayload("firing", { instance: "10.0.9.9:8081" }),
    );
    expect(fired.status).toBe(200);
    const ref = (fired.body.incidents as { ref: string }[])[0]?.ref;

    const open = await api("GET", "/api/v1/incidents?state=open&model=fraud-detector");
    expect((open.body.incidents as { ref: string; state: string }[]).every((i) => i.state === "open")).toBe(
      true,
    );
    const all = await api("GET", "/api/v1/incidents?state=all");
    expect((all.body.incidents as unknown[]).length).toBeGreaterThanOrEqual(2);
    const resolved = await api("GET", "/api/v1/incidents?state=resolved");
    expect((resolved.body.incidents as { state: string }[]).map((i) => i.state)).toContain("resolved");
    expect(
      ((await api("GET", "/api/v1/incidents?model=churn-model")).body.incidents as unknown[]).length,
    ).toBe(0);
    const future = await api("GET", `/api/v1/incidents?since=${encodeURIComponent("2999-01-01T00:00:00Z")}`);
    expect(future.body.incidents).toEqual([]);
    expect(ref).toMatch(/^INC-\d+$/);

    const badState = await api("GET", "/api/v1/incidents?state=sleeping");
    expect(badState.status).toBe(400);
    expect(JSON.stringify(badState.body.issues)).toContain("unknown state 'sleeping'");
    expect((await api("GET", "/api/v1/incidents?since=yesterday")).status).toBe(400);
    expect((await api("GET", "/api/v1/incidents", undefined, {})).status).toBe(401);
  });

  it("an unknown reference is 404 and a malformed one 400", async () => {
    expect((await api("GET", "/api/v1/incidents/INC-999999")).status).toBe(404);
    expect((await api("GET", "/api/v1/incidents/latest")).status).toBe(400);
  });
});
