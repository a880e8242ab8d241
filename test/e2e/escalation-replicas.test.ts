import { afterAll, describe, expect, it } from "vitest";
import { type Bot, startBot } from "../../src/bot.js";
import { parseEnv } from "../../src/config/index.js";
import { openPostgres } from "../../src/db/index.js";
import {
  createEscalationRepository,
  escalationDescriber,
  severityEscalator,
} from "../../src/escalation/index.js";
import { createIncidentRepository } from "../../src/incidents/index.js";
import { createOutboxRepository } from "../../src/outbox/index.js";
import { SandboxDriver, type SandboxServer, startSandboxServer } from "../../src/slack/sandbox/index.js";
import { sandboxSeedFromConfig } from "../../src/slack/sandbox-seed.js";
import { createEscalationFeature, type EscalationFeature } from "../../src/wiring/escalation-feature.js";
import { createIncidentsFeature, type IncidentsFeature } from "../../src/wiring/incidents-feature.js";
import { driftSignal, escalationConfig, skippingClock } from "../escalation/helpers.js";
import { createEmptyPostgresDatabase, TEST_DATABASE_URL, testLogger } from "../helpers/db.js";
import { eventually } from "./incidents-bot.js";

const TOKEN = "xoxb-escalation-replicas";
const SECRET = "escalation-replicas-signing-secret";
const MIN = 60_000;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

type Replica = Bot & { incidents: IncidentsFeature; escalation: EscalationFeature };

describe.skipIf(!TEST_DATABASE_URL)("escalation with two replicas on one Postgres", () => {
  it("each step pages each member once, whichever replica takes it", async () => {
    const config = escalationConfig({
      default: { l1: { wait: "5m" }, l2: { wait: "15m" }, l3: { wait: "1h" } },
    });
    const sandbox: SandboxServer = await startSandboxServer({
      token: TOKEN,
      seed: sandboxSeedFromConfig(config),
    });
    cleanups.push(() => sandbox.close());
    const created = await createEmptyPostgresDatabase();
    cleanups.push(() => created.drop());
    const clock = skippingClock();

    async function replica(): Promise<Replica> {
      const database = openPostgres(created.url, testLogger, { max: 5 });
      let incidents: IncidentsFeature | undefined;
      let escalation: EscalationFeature | undefined;
      const bot = await startBot({
        env: parseEnv({
          PORT: "0",
          HOST: "127.0.0.1",
          LOG_LEVEL: "silent",
          SLACK_BOT_TOKEN: TOKEN,
          SLACK_SIGNING_SECRET: SECRET,
          SLACK_API_URL: sandbox.apiUrl,
        }),
        config,
        logger: testLogger,
        slackRetries: 0,
        database,
        clock,
        features: (ctx) => {
          incidents = createIncidentsFeature(ctx, {
            describeEscalation: escalationDescriber(ctx.config),
            severityChanged: severityEscalator(ctx.config),
          });
          escalation = createEscalationFeature(ctx, { incidents }, { tickMs: 50 });
          return [incidents, escalation];
        },
      });
      cleanups.push(() => bot.close());
      if (!incidents || !escalation) throw new Error("features not built");
      return { ...bot, incidents, escalation };
    }
    const a = await replica();
    const b = await replica();
    const { workspace } = sandbox;
    const driver = new SandboxDriver({
      botUrl: `${a.url}/slack/events`,
      signingSecret: SECRET,
      workspace,
      sandboxBaseUrl: sandbox.url,
    });
    const dms = (user: string) => workspace.messages(workspace.openDm([user]).channel.id);
    const drained = () =>
      eventually("the outbox to drain", async () => {
        const counts = await createOutboxRepository(a.database.db).countByState();
        return !counts.pending && !counts.sending;
      });

    const [outcome] = await a.incidents.intake.process([driftSignal(clock)]);
    const id = outcome?.incidentId as number;
    const ref = `INC-${id}`;
    const card = await eventually("the card", () =>
      workspace.messages("fraud-alerts").find((m) => m.text.startsWith(`${ref} [`)),
    );

    // Escalate by hand; both replicas' tickers race to fan the page out, and are made to race harder.
    await driver.clickButton("U0OLIVIA", card, "incident_escalate");
    await Promise.all([a.escalation.ticker.tick(), b.escalation.ticker.tick(), a.escalation.ticker.tick()]);
    await eventually("the L2 page", async () =>
      (await createIncidentRepository(a.database.db).countEvents(id, "paged")) === 1 ? true : undefined,
    );
    await drained();

    // Past L2's wait both replicas see the deadline; one takes it.
    clock.advance(16 * MIN);
    await Promise.all([a.escalation.ticker.tick(), b.escalation.ticker.tick(), b.escalation.ticker.tick()]);
    await eventually("the L3 page", async () =>
      (await createIncidentRepository(a.database.db).countEvents(id, "paged")) === 2 ? true : undefined,
    );
    await drained();
    await new Promise((r) => setTimeout(r, 500));

    expect(dms("U0DANA")).toHaveLength(1);
    expect(dms("U0DEV")).toHaveLength(1);
    expect(dms("U0MAYA")).toHaveLength(1);
    const thread = workspace.thread("fraud-alerts", card.ts);
    expect(thread.filter((m) => m.text.includes("L2 page"))).toHaveLength(1);
    expect(thread.filter((m) => m.text.includes("L3 page"))).toHaveLength(1);
    const events = await createIncidentRepository(a.database.db).timeline(id);
    expect(events.filter((e) => e.kind === "escalated").map((e) => [e.actor, e.detail.to])).toEqual([
      ["U0OLIVIA", 2],
      ["timer", 3],
    ]);
    const pages = await createEscalationRepository(a.database.db).pagesOf(id);
    expect(pages.map((p) => [p.tier, p.state, p.members])).toEqual([
      [2, "done", ["U0DANA", "U0DEV"]],
      [3, "done", ["U0MAYA"]],
    ]);
    // Every DM row went out once.
    const dmRows = (await createOutboxRepository(a.database.db).all()).filter((r) =>
      r.channel.startsWith("D"),
    );
    expect(dmRows.map((r) => r.state)).toEqual(["sent", "sent", "sent"]);
  }, 60_000);
});
