import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, configSchema, parseConfig } from "../../src/config/index.js";
import type { Incident } from "../../src/incidents/index.js";
import { buildRequest, parseAnswer, sendRequest, verifyAnswer } from "../../src/pagers/index.js";
import { oneModelConfigInput } from "../helpers/bot.js";
import { pdWebhook, startFakePagerDuty } from "../helpers/fake-pagerduty.js";

const SECRET = "pd-webhook-secret-0123456789";
const config = configSchema.parse(
  oneModelConfigInput({
    pagers: { pd: { type: "pagerduty", routing_key: "R0UTINGKEY0123", webhook_secret: SECRET, users: {} } },
  }),
);
const pd = config.pagers.pd;
if (!pd) throw new Error("expected pager pd");
let fake: Awaited<ReturnType<typeof startFakePagerDuty>>;
beforeAll(async () => {
  fake = await startFakePagerDuty();
});
afterAll(async () => {
  await fake?.close();
});

describe("PagerDuty v3 webhook signatures", () => {
  const now = new Date("2030-01-01T12:00:00Z");

  it("accepts a body whose signature is any of several (a secret in rotation) and reads who acknowledged", () => {
    const { body, headers } = pdWebhook("incident.acknowledged", "INC-7", "PDANA01", SECRET, now);
    expect(verifyAnswer(pd, headers, body, now)).toBeUndefined();
    expect(parseAnswer(pd, body)).toMatchObject({
      kind: "answer",
      action: "acknowledge",
      ref: "INC-7",
      user: "PDANA01",
    });
  });

  it("refuses another secret's signature, a changed body, a missing header and a stale event", () => {
    const { body, headers } = pdWebhook(
      "incident.acknowledged",
      "INC-7",
      "PDANA01",
      "another-secret-0123456789",
      now,
    );
    expect(verifyAnswer(pd, headers, body, now)).toBe("bad signature");
    const good = pdWebhook("incident.acknowledged", "INC-7", "PDANA01", SECRET, now);
    expect(verifyAnswer(pd, good.headers, good.body.replace("INC-7", "INC-8"), now)).toBe("bad signature");
    expect(verifyAnswer(pd, {}, good.body, now)).toBe("missing X-PagerDuty-Signature");
    expect(verifyAnswer(pd, good.headers, good.body, new Date(now.getTime() + 6 * 60_000))).toBe(
      "stale event",
    );
  });

  it("ignores event types that are not an answer", () => {
    const { body } = pdWebhook("incident.triggered", "INC-7", "PDANA01", SECRET, now);
    expect(parseAnswer(pd, body)).toMatchObject({ kind: "ignored" });
  });
});

describe("the Events API's answers (fake PagerDuty)", () => {
  const at = new Date();
  const post = (body: unknown) =>
    sendRequest(
      {
        url: `${fake.url}/v2/enqueue`,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      },
      at,
    );

  it("an invalid event is a 400 that is not retried", async () => {
    const outcome = await post({
      routing_key: "R0UTINGKEY0123",
      event_action: "trigger",
      dedup_key: "INC-1",
    });
    expect(outcome).toMatchObject({ ok: false, retry: false });
    expect(outcome.ok ? "" : outcome.error).toContain("invalid event");
  });

  it("throttling is retried after Retry-After; an outage is retried", async () => {
    fake.setMode("throttle");
    expect(await post({})).toMatchObject({ ok: false, retry: true, retryAfterMs: 30_000 });
    fake.setMode("down");
    expect(await post({})).toMatchObject({ ok: false, retry: true });
    fake.setMode("ok");
  });

  it("an accepted event keeps its dedup_key", async () => {
    const outcome = await post({
      routing_key: "R0UTINGKEY0123",
      event_action: "acknowledge",
      dedup_key: "INC-2",
    });
    expect(outcome).toEqual({
      ok: true,
      result: { status: 202, dedup_key: "INC-2", message: "Event processed" },
    });
  });
});

describe("pager config", () => {
  const yaml = (pagers: string, notify: string) => `
workspace: { name: acme, alert_channel: "#mlops-alerts", user_groups: { l1: { handle: ops }, l2: { handle: ds }, ml: { handle: ml } } }
models: [{ slug: m, name: M, task: binary_classification, owners: ml, alert_channel: "#m", features: [{ name: a, type: numeric }] }]
pagers:
${pagers}
escalation: { default: { l2: { notify: ${notify} } } }
`;

  it("a notify rule naming an unknown pager is refused, naming the key", () => {
    const text = yaml(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${ENV} syntax, substituted by parseConfig
      '  pd: { type: pagerduty, routing_key: "${PD_KEY}" }',
      "[{ pager: pd-phone, after: 5m }]",
    );
    expect(() => parseConfig(text, "x.yaml", { PD_KEY: "R0UTINGKEY0123" })).toThrow(
      /escalation\.default\.l2\.notify\[0\]\.pager.*unknown pager 'pd-phone'/,
    );
  });

  it("a person's rule naming an unknown pager is refused, naming the key", () => {
    const text = `${yaml(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${ENV} syntax, substituted by parseConfig
      '  pd: { type: pagerduty, routing_key: "${PD_KEY}" }',
      "[{ pager: pd }]",
    )}oncall: { people: { U0DEV: { notify: [{ pager: pd }, { pager: phone, after: 5m }] } } }\n`;
    expect(() => parseConfig(text, "x.yaml", { PD_KEY: "R0UTINGKEY0123" })).toThrow(
      /oncall\.people\.U0DEV\.notify\[1\]\.pager.*unknown pager 'phone'/,
    );
  });

  it("a too-short webhook secret is refused naming the key, and the API key is never printed", () => {
    const text = yaml(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${ENV} syntax, substituted by parseConfig
      '  og: { type: opsgenie, api_key: "${OG_KEY}", webhook_secret: short }',
      "[{ pager: og }]",
    );
    let error: unknown;
    try {
      parseConfig(text, "x.yaml", { OG_KEY: "og-key-0123456789" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toMatch(/pagers\.og\.webhook_secret/);
    expect(String((error as Error).message)).not.toContain("og-key-0123456789");
  });
});

describe("a trigger for a person's own rule", () => {
  const cfg = configSchema.parse(
    oneModelConfigInput({
      pagers: {
        og: {
          type: "opsgenie",
          api_key: "og-key-0123456789",
          responders: [{ type: "team", name: "ds" }],
          users: { "dev@example.com": "U0DEV" },
        },
        hook: { type: "webhook", url: "https://pager.example.com/hook", secret: "hook-secret-0123456789" },
      },
    }),
  );
  const incident = {
    id: 7,
    title: "Drift on amount",
    model: "fraud-detector",
    monitor: "drift",
    subject: "amount",
    severity: "warning",
    state: "open",
    openedAt: new Date("2026-03-09T09:00:00Z"),
  } as Incident;
  const body = (pager: string, person?: string) =>
    JSON.parse(
      buildRequest(
        cfg.pagers[pager] as NonNullable<(typeof cfg.pagers)[string]>,
        { incident, ref: "INC-7", action: "trigger", tier: 2, person },
        new Date(),
      ).body,
    );

  it("adds the person as an Opsgenie responder when mapped, and names them in a webhook", () => {
    expect(body("og", "U0DEV").responders).toEqual([
      { type: "team", name: "ds" },
      { type: "user", username: "dev@example.com" },
    ]);
    expect(body("og").responders).toEqual([{ type: "team", name: "ds" }]);
    expect(body("og", "U0DANA").responders).toEqual([{ type: "team", name: "ds" }]);
    expect(body("hook", "U0DEV")).toMatchObject({
      event: "page.trigger",
      incident: "INC-7",
      on_call: "U0DEV",
    });
  });
});
