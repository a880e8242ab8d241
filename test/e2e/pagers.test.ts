import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bot, startBot } from "../../src/bot.js";
import { configSchema, parseEnv } from "../../src/config/index.js";
import { escalationDescriber, severityEscalator } from "../../src/escalation/index.js";
import { createOnCallService } from "../../src/oncall/index.js";
import { createEscalationFeature } from "../../src/wiring/escalation-feature.js";
import { createIncidentsFeature, type IncidentsFeature } from "../../src/wiring/incidents-feature.js";
import { createPagersFeature, pagerQueueOf } from "../../src/wiring/pagers-feature.js";
import { dmsOf, driftSignal, type EscalationBot, skippingClock } from "../escalation/helpers.js";
import { oneModelConfigInput } from "../helpers/bot.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";
import { pdWebhook, startFakePagerDuty } from "../helpers/fake-pagerduty.js";
import { buttonIds, eventually, outboxDrained } from "./incidents-bot.js";

const CHANNEL = "fraud-alerts";
const MIN = 60_000;
const SECRET = "pd-webhook-secret-0123456789";
const PHONE_KEY = "PH0NEKEY0123456789";
const clock = skippingClock();
let pd: Awaited<ReturnType<typeof startFakePagerDuty>>;
let bot: Bot & { sandbox: NonNullable<Bot["sandbox"]>; incidents: IncidentsFeature };

beforeAll(async () => {
  pd = await startFakePagerDuty();
  const config = configSchema.parse(
    oneModelConfigInput({
      alerting: { group_by: ["model", "monitor", "subject"] },
      pagers: {
        pd: {
          type: "pagerduty",
          routing_key: "R0UTINGKEY0123456789",
          webhook_secret: SECRET,
          api_url: pd.url,
          users: { PDANA01: "U0DANA", PDEV01: "U0DEV" },
        },
        "pd-phone": { type: "pagerduty", routing_key: PHONE_KEY, api_url: pd.url },
      },
      // Critical incidents page L2 at once in Slack, and PagerDuty if nobody answers within 2 minutes.
      // Warnings page L2 through the `solo` schedule (always Dev), whose own rules then apply.
      escalation: {
        severity: {
          critical: { start: "l2", l2: { wait: "1h", notify: [{ pager: "pd", after: "2m" }] } },
          warning: { start: "l2", l2: { wait: "1h", schedule: "solo" } },
        },
      },
      schedules: {
        solo: { layers: [{ users: ["U0DEV"], rotation: "weekly", start: "2026-01-05" }] },
      },
      oncall: {
        people: {
          U0DEV: {
            notify: [
              { pager: "pd", after: "0m" },
              { pager: "pd-phone", after: "5m" },
            ],
          },
        },
      },
    }),
  );
  let incidents: IncidentsFeature | undefined;
  const started = await startBot({
    env: parseEnv({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" }),
    config,
    logger: testLogger,
    slackRetries: 0,
    database: await openTestDatabase(),
    clock,
    features: (ctx) => {
      incidents = createIncidentsFeature(ctx, {
        tickMs: 200,
        describeEscalation: escalationDescriber(ctx.config),
        severityChanged: severityEscalator(ctx.config),
      });
      const schedules = createOnCallService({ config: ctx.config, clock });
      const escalation = createEscalationFeature(
        ctx,
        {
          incidents,
          pagers: pagerQueueOf(),
          onCall: async (schedule, at) => (await schedules.whoIsOn(schedule, at))?.user ?? null,
        },
        { tickMs: 100 },
      );
      return [incidents, escalation, createPagersFeature(ctx, { incidents }, { tickMs: 100 })];
    },
  });
  if (!started.sandbox || !incidents) throw new Error("expected sandbox mode");
  bot = { ...started, sandbox: started.sandbox, incidents };
});
afterAll(async () => {
  await bot?.close();
  await pd?.close();
});

function text(m: { text?: string; blocks?: unknown } | undefined): string {
  return `${m?.text ?? ""} ${JSON.stringify(m?.blocks ?? [])}`;
}

async function openCritical(severity: "critical" | "warning" = "critical") {
  const [outcome] = await bot.incidents.intake.process([driftSignal(clock, { severity })]);
  if (!outcome?.incidentId) throw new Error("expected an incident");
  const ref = `INC-${outcome.incidentId}`;
  const card = await eventually(`the card of ${ref}`, () =>
    bot.sandbox.workspace.messages(CHANNEL).find((m) => m.text.startsWith(`${ref} [`)),
  );
  return { id: outcome.incidentId, ref, card };
}

async function timeline(id: number) {
  return bot.incidents.incidents.timeline(id);
}

function webhook(body: string, headers: Record<string, string>) {
  return fetch(`${bot.url}/api/v1/pagers/pd/webhook`, { method: "POST", headers, body });
}

const events = (ref: string) => pd.events.filter((e) => e.dedup_key === ref).map((e) => e.event_action);

describe("PagerDuty after the Slack page (sandbox, fake PagerDuty)", () => {
  it("pages PagerDuty when nobody acknowledges the DM in time, and an acknowledgement there shows on the card", async () => {
    const { id, ref, card } = await openCritical();
    const dm = await eventually("Dana's L2 DM", () =>
      dmsOf(bot as unknown as EscalationBot, "U0DANA").find((m) => text(m).includes(ref)),
    );
    expect(buttonIds(dm)).toContain("escalation_acknowledge");
    await outboxDrained(bot);
    expect(events(ref)).toEqual([]);

    clock.advance(3 * MIN);
    await eventually("the PagerDuty trigger", () => events(ref).length > 0);
    const trigger = pd.events.find((e) => e.dedup_key === ref);
    expect(trigger?.event_action).toBe("trigger");
    expect(trigger?.payload?.severity).toBe("critical");
    expect(trigger?.payload?.summary).toContain(ref);
    await eventually("the page in the timeline", async () =>
      (await timeline(id)).some((e) => e.kind === "pager_sent" && e.detail.action === "trigger"),
    );

    // A forged acknowledgement is refused and changes nothing.
    const before = (await timeline(id)).length;
    const forged = pdWebhook("incident.acknowledged", ref, "PDANA01", "not-the-secret-at-all", clock.now());
    const refused = await webhook(forged.body, {
      ...forged.headers,
      "x-pagerduty-signature": forged.headers["x-pagerduty-signature"]?.split(",")[1] ?? "",
    });
    expect(refused.status).toBe(401);
    expect((await bot.incidents.incidents.get(id)).state).toBe("open");
    expect((await timeline(id)).length).toBe(before);

    // Dana acknowledges in PagerDuty: its signed webhook acknowledges the incident as her.
    const ack = pdWebhook("incident.acknowledged", ref, "PDANA01", SECRET, clock.now());
    const answered = await webhook(ack.body, ack.headers);
    expect(answered.status).toBe(202);
    expect(await answered.json()).toMatchObject({ outcome: "done" });
    await eventually("the card to say who acknowledged and from where", () =>
      text(bot.sandbox.workspace.message(CHANNEL, card.ts)).includes(
        "Acknowledged by <@U0DANA> from PagerDuty",
      ),
    );
    await eventually("the thread to say so", () =>
      bot.sandbox.workspace
        .thread(CHANNEL, card.ts)
        .some((m) => m.text.includes("<@U0DANA> acknowledged from PagerDuty")),
    );
    const acked = (await timeline(id)).filter((e) => e.kind === "acknowledged");
    expect(acked.map((e) => [e.actor, e.via, e.detail.answeredFrom])).toEqual([
      ["U0DANA", "pager", "PagerDuty"],
    ]);

    // Resolved in Slack: PagerDuty is told to resolve (and not told the acknowledgement it sent us).
    await bot.incidents.incidents.act({ incidentId: id, action: "resolve", actor: "U0DANA", via: "command" });
    await eventually("the PagerDuty resolve", () => events(ref).includes("resolve"));
    expect(events(ref)).toEqual(["trigger", "resolve"]);
  });

  it("an Acknowledge in Slack acknowledges in PagerDuty too", async () => {
    const { ref } = await openCritical();
    const dm = await eventually("Dana's DM", () =>
      dmsOf(bot as unknown as EscalationBot, "U0DANA").find((m) => text(m).includes(ref)),
    );
    await outboxDrained(bot);
    clock.advance(3 * MIN);
    await eventually("the PagerDuty trigger", () => events(ref).includes("trigger"));
    const click = await bot.sandbox.driver.clickButton("U0DANA", dm, "escalation_acknowledge");
    expect(click.status).toBe(200);
    await eventually("the PagerDuty acknowledge", () => events(ref).includes("acknowledge"));
    expect(events(ref)).toEqual(["trigger", "acknowledge"]);
  });

  it("a PagerDuty outage does not hold the Slack page up; the retries and the failure are in the timeline", async () => {
    pd.setMode("down");
    try {
      const { id, ref } = await openCritical();
      await eventually("Dana's DM despite the outage", () =>
        dmsOf(bot as unknown as EscalationBot, "U0DANA").find((m) => text(m).includes(ref)),
      );
      await outboxDrained(bot);
      clock.advance(3 * MIN);
      await eventually("a failed attempt in the timeline", async () =>
        (await timeline(id)).some((e) => e.kind === "pager_failed" && e.detail.final === false),
      );
      // Each retry waits its backoff (2 s doubling); move past them until the worker gives up.
      for (let i = 0; i < 8; i++) {
        clock.advance(MIN);
        await new Promise((r) => setTimeout(r, 300));
      }
      const failures = await eventually("the failure given up", async () => {
        const f = (await timeline(id)).filter((e) => e.kind === "pager_failed");
        return f.some((e) => e.detail.final === true) && f;
      });
      expect(failures).toHaveLength(6);
      expect(String(failures.at(-1)?.detail.error)).toContain("HTTP 503");
      expect(events(ref)).toEqual([]);
    } finally {
      pd.setMode("ok");
    }
  });
});

describe("a person's own rules (oncall.people) when a tier pages them through a schedule", () => {
  it("pages the on-call's own pager at once, in the timeline as theirs, and cancels the later rule once acknowledged", async () => {
    const { id, ref } = await openCritical("warning");
    const dm = await eventually("Dev's page as the on-call of solo", () =>
      dmsOf(bot as unknown as EscalationBot, "U0DEV").find((m) => text(m).includes(ref)),
    );
    expect(dmsOf(bot as unknown as EscalationBot, "U0DANA").filter((m) => text(m).includes(ref))).toEqual([]);
    const trigger = await eventually("the trigger of Dev's own rule", () =>
      pd.events.find((e) => e.dedup_key === ref && e.event_action === "trigger"),
    );
    expect(trigger.routing_key).toBe("R0UTINGKEY0123456789");
    expect(trigger.payload?.custom_details).toMatchObject({
      on_call: "U0DEV",
      on_call_provider_user: "PDEV01",
    });
    const sent = await eventually("the page in the timeline", async () =>
      (await timeline(id)).find((e) => e.kind === "pager_sent"),
    );
    expect(sent.detail).toMatchObject({ pager: "pd", person: "U0DEV" });
    expect(String(sent.detail.what)).toBe("PagerDuty (pd): trigger for L2 (<@U0DEV>'s own rule) accepted");

    // Dev answers in Slack within the phone rule's 5 minutes: the phone is never called.
    expect((await bot.sandbox.driver.clickButton("U0DEV", dm, "escalation_acknowledge")).status).toBe(200);
    await eventually(
      "the acknowledgement",
      async () => (await bot.incidents.incidents.get(id)).state !== "open",
    );
    clock.advance(6 * MIN);
    const skipped = await eventually("the phone rule cancelled", async () =>
      (await timeline(id)).find((e) => e.kind === "pager_skipped"),
    );
    expect(skipped.detail).toMatchObject({ pager: "pd-phone", person: "U0DEV" });
    expect(String(skipped.detail.what)).toContain("not paged: the incident was acknowledged first");
    expect(pd.events.filter((e) => e.routing_key === PHONE_KEY)).toEqual([]);
  });
});
