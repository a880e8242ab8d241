import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditRepository } from "../../src/audit/index.js";
import type { Database } from "../../src/db/index.js";
import { incidentEvents, outbox } from "../../src/db/schema/index.js";
import { IncidentNotFoundError } from "../../src/incidents/index.js";
import { openTestDatabase } from "../helpers/db.js";
import { configWith, driftSignal, freshSubject, incidentServices, manualClock } from "./fixture.js";

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

const clock = manualClock();
const services = () => incidentServices(database, configWith(), clock);

async function openIncident(): Promise<number> {
  const [o] = await services().intake.process([driftSignal(clock, { subject: freshSubject() })]);
  return o?.incidentId as number;
}

async function kinds(incidentId: number): Promise<string[]> {
  const rows = await database.db
    .select({ kind: incidentEvents.kind })
    .from(incidentEvents)
    .where(eq(incidentEvents.incidentId, incidentId))
    .orderBy(incidentEvents.id);
  return rows.map((r) => r.kind);
}

async function ephemeralsFor(user: string) {
  const rows = await database.db.select().from(outbox).where(eq(outbox.method, "chat.postEphemeral"));
  return rows.filter((r) => r.payload.user === user);
}

describe("acknowledging, mitigating and resolving", () => {
  it("an L1 operator acknowledges: state, assignee, timeline, audit, a thread note and a card edit", async () => {
    const id = await openIncident();
    const s = services();
    const result = await s.incidents.act({
      incidentId: id,
      action: "acknowledge",
      actor: "U0OLIVIA",
      via: "button",
    });
    expect(result).toMatchObject({ outcome: "done", message: `You acknowledged INC-${id}.` });
    expect(result.incident).toMatchObject({
      state: "acknowledged",
      assignee: "U0OLIVIA",
      acknowledgedBy: "U0OLIVIA",
    });
    expect(await kinds(id)).toEqual(["opened", "acknowledged", "owner_changed", "posted"]);
    const card = await s.outbox.byId(result.incident.cardOutboxId as number);
    expect(JSON.stringify(card?.payload)).toContain("Acknowledged by <@U0OLIVIA>");
    expect(JSON.stringify(card?.payload)).not.toContain("incident_acknowledge");
    const [audit] = await createAuditRepository(database.db).recent({ actor: "U0OLIVIA", limit: 1 });
    expect(audit).toMatchObject({ action: "incident.acknowledge", target: `INC-${id}`, outcome: "ok" });
  });

  it("acknowledging twice changes nothing the second time and says who did it", async () => {
    const id = await openIncident();
    const s = services();
    await s.incidents.act({ incidentId: id, action: "acknowledge", actor: "U0OLIVIA", via: "button" });
    const again = await s.incidents.act({
      incidentId: id,
      action: "acknowledge",
      actor: "U0DANA",
      via: "button",
      replyTo: { channel: "fraud-alerts", user: "U0DANA" },
    });
    expect(again).toMatchObject({ outcome: "unchanged" });
    expect(again.message).toBe(`INC-${id} was not changed: it is already acknowledged by <@U0OLIVIA>.`);
    expect(again.incident.acknowledgedBy).toBe("U0OLIVIA");
    expect((await ephemeralsFor("U0DANA")).map((r) => r.payload.text)).toContain(again.message);
  });

  it("someone without the permission is refused: nothing changes, the attempt is in the timeline and the audit log", async () => {
    const id = await openIncident();
    const s = services();
    const before = await s.incidents.get(id);
    const outboxBefore = (await s.outbox.all()).length;
    const result = await s.incidents.act({
      incidentId: id,
      action: "acknowledge",
      actor: "U0GUEST",
      via: "button",
      replyTo: { channel: "fraud-alerts", user: "U0GUEST" },
    });
    expect(result.outcome).toBe("refused");
    expect(result.message).toBe(
      `You may not acknowledge INC-${id}: that takes @mlops-oncall, @ds-oncall or @fraud-ml-team (the model's owners). Nothing was changed.`,
    );
    expect(await s.incidents.get(id)).toEqual(before);
    expect(await kinds(id)).toEqual(["opened", "refused"]);
    const added = (await s.outbox.all()).slice(outboxBefore);
    expect(added.map((r) => [r.method, r.payload.user])).toEqual([["chat.postEphemeral", "U0GUEST"]]);
    const [audit] = await createAuditRepository(database.db).recent({ actor: "U0GUEST", limit: 1 });
    expect(audit).toMatchObject({ action: "incident.acknowledge", outcome: "refused" });
  });

  it("a model's owners may act on their model's incidents", async () => {
    const id = await openIncident();
    const result = await services().incidents.act({
      incidentId: id,
      action: "acknowledge",
      actor: "U0MAYA",
      via: "command",
    });
    expect(result.outcome).toBe("done");
  });

  it("50 concurrent acknowledgements: exactly one acknowledged event, the rest unchanged", async () => {
    const id = await openIncident();
    const s = services();
    const actors = ["U0OLIVIA", "U0OMAR", "U0DANA", "U0DEV", "U0MAYA"];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        s.incidents.act({
          incidentId: id,
          action: "acknowledge",
          actor: actors[i % 5] as string,
          via: "button",
        }),
      ),
    );
    expect(results.filter((r) => r.outcome === "done")).toHaveLength(1);
    expect(results.filter((r) => r.outcome === "unchanged")).toHaveLength(49);
    const acked = await database.db
      .select()
      .from(incidentEvents)
      .where(and(eq(incidentEvents.incidentId, id), eq(incidentEvents.kind, "acknowledged")));
    expect(acked).toHaveLength(1);
  });

  it("mitigate then resolve with a note: the summary in the thread says how long and who did what", async () => {
    const id = await openIncident();
    const s = services();
    await s.incidents.act({ incidentId: id, action: "acknowledge", actor: "U0DANA", via: "button" });
    clock.advance(10 * 60_000);
    await s.incidents.act({
      incidentId: id,
      action: "mitigate",
      actor: "U0OLIVIA",
      via: "command",
      note: "rolled back",
    });
    clock.advance(5 * 60_000);
    const done = await s.incidents.act({
      incidentId: id,
      action: "resolve",
      actor: "U0OLIVIA",
      via: "modal",
      note: "feature pipeline fixed",
    });
    expect(done).toMatchObject({ outcome: "done", message: `You resolved INC-${id} after 15m.` });
    expect(done.incident).toMatchObject({
      state: "resolved",
      resolution: "feature pipeline fixed",
      resolvedBy: "U0OLIVIA",
    });
    const replies = (await s.outbox.all()).filter(
      (r) => r.parentId === done.incident.cardOutboxId && r.method === "chat.postMessage",
    );
    const summary = JSON.stringify(replies.at(-1)?.payload);
    expect(summary).toContain("resolved* by <@U0OLIVIA> after 15m");
    expect(summary).toContain("feature pipeline fixed");
    expect(summary).toContain("<@U0DANA>: acknowledged");
    expect(summary).toContain("<@U0OLIVIA>: mitigated, resolved");
    const again = await s.incidents.act({
      incidentId: id,
      action: "resolve",
      actor: "U0DANA",
      via: "command",
    });
    expect(again.message).toBe(`INC-${id} was not changed: it is already resolved by <@U0OLIVIA>.`);
  });

  it("an unknown incident is a not-found error", async () => {
    await expect(
      services().incidents.act({
        incidentId: 999_999,
        action: "acknowledge",
        actor: "U0DANA",
        via: "command",
      }),
    ).rejects.toBeInstanceOf(IncidentNotFoundError);
  });
});

describe("silences", () => {
  it("silencing an incident mutes its repeat firings (counted, not announced) until the silence expires", async () => {
    const s = services();
    const subject = freshSubject();
    const [o] = await s.intake.process([driftSignal(clock, { subject })]);
    const id = o?.incidentId as number;
    const set = await s.silences.create({
      target: { kind: "incident", incidentId: id },
      durationMs: 3_600_000,
      reason: "deploy in progress",
      actor: "U0DANA",
      via: "button",
    });
    expect(set.outcome).toBe("done");
    expect(set.message).toMatch(/^SIL-\d+: INC-\d+ silenced for 1h \(1 open incident muted\)\.$/);
    const incident = await s.incidents.get(id);
    const repliesBefore = (await s.outbox.all()).filter(
      (r) => r.parentId === incident.cardOutboxId && r.method === "chat.postMessage",
    );
    expect(JSON.stringify(repliesBefore.at(-1)?.payload)).toContain("silenced this alert");
    clock.advance(60_000);
    await s.intake.process([driftSignal(clock, { subject })]);
    const after = await s.incidents.get(id);
    expect(after.alertCount).toBe(2);
    const repliesAfter = (await s.outbox.all()).filter(
      (r) => r.parentId === incident.cardOutboxId && r.method === "chat.postMessage",
    );
    expect(repliesAfter).toHaveLength(repliesBefore.length);
    clock.advance(3_600_000);
    expect((await s.ticker.tick()).silencesExpired).toBe(1);
    expect(await kinds(id)).toEqual(["opened", "silenced", "alert_fired", "silence_expired"]);
  });

  it("a model-wide silence keeps new incidents from opening; the alert is still recorded", async () => {
    const s = services();
    const config = configWith();
    expect(config.models[0]?.slug).toBe("fraud-detector");
    const set = await s.silences.create({
      target: { kind: "model", model: "fraud-detector", monitor: "probe" },
      durationMs: 600_000,
      reason: "maintenance window",
      actor: "U0OLIVIA",
      via: "command",
    });
    const subject = freshSubject();
    const [muted] = await s.intake.process([driftSignal(clock, { monitor: "probe", subject })]);
    expect(muted).toMatchObject({ effect: "silenced", incidentId: null });
    const ended = await s.silences.end({ id: set.silence?.id as number, actor: "U0OLIVIA", via: "command" });
    expect(ended.message).toContain("ended");
    const [opened] = await s.intake.process([driftSignal(clock, { monitor: "probe", subject })]);
    expect(opened?.effect).toBe("opened");
  });

  it("someone without the permission cannot silence; nothing is set and the attempt is logged", async () => {
    const s = services();
    const id = await openIncident();
    const result = await s.silences.create({
      target: { kind: "incident", incidentId: id },
      durationMs: 3_600_000,
      reason: "shh",
      actor: "U0GUEST",
      via: "button",
      replyTo: { channel: "fraud-alerts", user: "U0GUEST" },
    });
    expect(result.outcome).toBe("refused");
    expect(await kinds(id)).toEqual(["opened", "refused"]);
    expect((await s.silences.active()).some((x) => x.incidentId === id)).toBe(false);
  });
});
