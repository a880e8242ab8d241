import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccessControl } from "../../src/access/index.js";
import type { MlopsConfig } from "../../src/config/index.js";
import type { Database } from "../../src/db/index.js";
import {
  createEscalationRepository,
  createEscalationService,
  createEscalationTicker,
  type EscalationDeps,
  type PageDirectory,
} from "../../src/escalation/index.js";
import { createIncidentRepository } from "../../src/incidents/index.js";
import { createOutboxRepository } from "../../src/outbox/index.js";
import { createSlackEscalationNotifier } from "../../src/slack/escalation/notifier.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";
import {
  demoDirectory,
  driftSignal,
  freshSubject,
  incidentServices,
  manualClock,
} from "../incidents/fixture.js";
import { escalationConfig } from "./helpers.js";

const MIN = 60_000;
let database: Database;
afterAll(async () => {
  await database?.close();
});
beforeAll(async () => {
  database = await openTestDatabase();
});

/** Escalation on a real database with the real outbox notifier; Slack reads come from the config's people. */
function setup(config: MlopsConfig) {
  const clock = manualClock();
  const services = incidentServices(database, config, clock);
  const people = demoDirectory(config);
  const directory: PageDirectory = {
    groupId: async (g) => `S_${g.handle}`,
    members: (g) => people.members(g),
    openDm: async (user) => `D_${user}`,
    link: async () => null,
  };
  const deps: EscalationDeps = {
    db: database.db,
    clock,
    config,
    logger: testLogger,
    access: createAccessControl(config, people),
    notifier: createSlackEscalationNotifier({ clock, wake: () => {}, updateCard: async () => 0 }),
    directory,
    acknowledge: (req) => services.incidents.act(req),
  };
  const escalation = createEscalationService(deps);
  const ticker = createEscalationTicker(deps, escalation);
  async function open() {
    const [outcome] = await services.intake.process([
      driftSignal(clock, { subject: freshSubject("amount") }),
    ]);
    return outcome?.incidentId as number;
  }
  const kinds = async (id: number) =>
    (await createIncidentRepository(database.db).timeline(id)).map((e) => e.kind);
  const dmCount = async (user: string) =>
    (await createOutboxRepository(database.db).all()).filter((r) => r.channel === `D_${user}`).length;
  return { clock, services, escalation, ticker, open, kinds, dmCount };
}

describe("the escalation timer on a manual clock", () => {
  it("reminds in the thread while acknowledged but unresolved, and stops once resolved", async () => {
    const t = setup(escalationConfig({ default: { l1: { wait: "5m" }, remind_every: "30m" } }));
    const id = await t.open();
    await t.ticker.tick();
    await t.services.incidents.act({
      incidentId: id,
      action: "acknowledge",
      actor: "U0OLIVIA",
      via: "command",
    });
    t.clock.advance(6 * MIN);
    await t.ticker.tick();
    expect((await t.kinds(id)).filter((k) => k === "escalation_reminded")).toHaveLength(1);
    t.clock.advance(31 * MIN);
    await t.ticker.tick();
    expect((await t.kinds(id)).filter((k) => k === "escalation_reminded")).toHaveLength(2);
    await t.services.incidents.act({
      incidentId: id,
      action: "resolve",
      actor: "U0OLIVIA",
      via: "command",
      note: "ok",
    });
    t.clock.advance(31 * MIN);
    await t.ticker.tick();
    expect((await t.kinds(id)).filter((k) => k === "escalation_reminded")).toHaveLength(2);
    expect((await createEscalationRepository(database.db).byIncident(id))?.nextAt).toBeNull();
    expect(await t.kinds(id)).not.toContain("escalated");
  });

  it("pages a tier again as often as its repeat count says, then the next tier, then stops", async () => {
    const t = setup(
      escalationConfig({
        default: { l1: { wait: "5m" }, l2: { wait: "10m", repeat: 1 }, l3: { wait: "1h" } },
      }),
    );
    const id = await t.open();
    const dana = await t.dmCount("U0DANA");
    const maya = await t.dmCount("U0MAYA");
    await t.ticker.tick();
    for (const minutes of [6, 11, 11, 61]) {
      t.clock.advance(minutes * MIN);
      await t.ticker.tick();
    }
    const pages = await createEscalationRepository(database.db).pagesOf(id);
    expect(pages.map((p) => [p.tier, p.reason, p.state])).toEqual([
      [2, "timeout", "done"],
      [2, "repeat", "done"],
      [3, "timeout", "done"],
    ]);
    expect((await t.dmCount("U0DANA")) - dana).toBe(2);
    expect((await t.dmCount("U0MAYA")) - maya).toBe(1);
    expect((await t.kinds(id)).filter((k) => k === "escalation_exhausted")).toHaveLength(1);
    t.clock.advance(120 * MIN);
    await t.ticker.tick();
    expect(await createEscalationRepository(database.db).pagesOf(id)).toHaveLength(3);
  });

  it("with auto off, nothing escalates by itself but a person still may", async () => {
    const t = setup(escalationConfig({ default: { auto: false } }));
    const id = await t.open();
    await t.ticker.tick();
    // (The card is never delivered here: pages wait up to a minute for its thread, then go without.)
    t.clock.advance(300 * MIN);
    await t.ticker.tick();
    expect(await t.kinds(id)).not.toContain("escalated");
    const result = await t.escalation.escalate({ incidentId: id, actor: "U0OLIVIA", via: "command" });
    expect(result.outcome).toBe("done");
    t.clock.advance(2 * MIN);
    await t.ticker.tick();
    expect((await t.kinds(id)).filter((k) => k === "paged")).toHaveLength(1);
  });

  it("freezes the policy when escalation starts: a config change later does not touch it", async () => {
    const before = setup(escalationConfig({ default: { l1: { wait: "5m" } } }));
    const id = await before.open();
    await before.ticker.tick();
    // Another process with a longer L1 wait takes the deadline: the frozen 5m still applies.
    const after = setup(escalationConfig({ default: { l1: { wait: "2h" } } }));
    after.clock.advance(6 * MIN);
    await after.ticker.tick();
    expect((await after.kinds(id)).filter((k) => k === "escalated")).toHaveLength(1);
  });
});
