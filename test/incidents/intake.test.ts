import { and, count, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import { alerts, incidentEvents, incidents, outbox } from "../../src/db/schema/index.js";
import { fingerprintOf, InvalidSignalError } from "../../src/incidents/index.js";
import { openTestDatabase } from "../helpers/db.js";
import { configWith, driftSignal, freshSubject, incidentServices, manualClock } from "./fixture.js";

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

async function rowsOf(incidentId: number) {
  const [incident] = await database.db.select().from(incidents).where(eq(incidents.id, incidentId));
  if (!incident) throw new Error(`no incident ${incidentId}`);
  const events = await database.db
    .select()
    .from(incidentEvents)
    .where(eq(incidentEvents.incidentId, incidentId))
    .orderBy(incidentEvents.id);
  const card = incident.cardOutboxId
    ? (await database.db.select().from(outbox).where(eq(outbox.id, incident.cardOutboxId)))[0]
    : undefined;
  const replies = card
    ? await database.db.select().from(outbox).where(eq(outbox.parentId, card.id)).orderBy(outbox.id)
    : [];
  return { incident, events, card, replies };
}

function text(row: { payload: Record<string, unknown> } | undefined): string {
  return JSON.stringify(row?.payload ?? {});
}

describe("alert signals become incidents", () => {
  it("a first firing opens INC-n in open state with one card for the model's channel, buttons and all", async () => {
    const clock = manualClock();
    const s = incidentServices(database, configWith(), clock);
    const subject = freshSubject();
    const [outcome] = await s.intake.process([driftSignal(clock, { subject })]);
    expect(outcome).toMatchObject({
      effect: "opened",
      fingerprint: fingerprintOf({ model: "fraud-detector", monitor: "drift", subject }),
    });
    const { incident, events, card } = await rowsOf(outcome?.incidentId as number);
    expect(incident).toMatchObject({
      state: "open",
      model: "fraud-detector",
      channel: "fraud-alerts",
      alertCount: 1,
      modelVersion: "v1",
    });
    expect(card).toMatchObject({ method: "chat.postMessage", channel: "fraud-alerts", state: "pending" });
    expect(text(card)).toContain(`INC-${incident.id}`);
    for (const id of ["incident_acknowledge", "incident_resolve", "incident_silence_1h"]) {
      expect(text(card)).toContain(id);
    }
    // Escalate is offered once the escalation feature answers it.
    expect(text(card)).not.toContain("incident_escalate");
    expect(text(card)).toContain("PSI &gt;= 0.2 (fixed threshold)");
    expect(text(card)).toContain("`fraud-detector` v1)");
    expect(events.map((e) => [e.kind, e.actor, e.via, e.outboxId])).toEqual([
      ["opened", "monitor", "alert", card?.id],
    ]);
    expect(s.wakes()).toBe(1);
  });

  it("the same fingerprint firing again joins the open incident: a thread reply and a counter, never a second card", async () => {
    const clock = manualClock();
    const s = incidentServices(database, configWith(), clock);
    const subject = freshSubject();
    const [first] = await s.intake.process([driftSignal(clock, { subject })]);
    clock.advance(5 * 60_000);
    const [second] = await s.intake.process([
      driftSignal(clock, { subject, title: "Drift in amount: PSI 0.41", metrics: { psi: 0.41 } }),
    ]);
    expect(second).toMatchObject({ effect: "attached", incidentId: first?.incidentId });
    const { incident, events, card, replies } = await rowsOf(first?.incidentId as number);
    expect(incident.alertCount).toBe(2);
    expect(events.map((e) => e.kind)).toEqual(["opened", "alert_fired"]);
    // The card had not gone out yet, so its edit was folded into it: still one card row, now saying "2 times".
    expect(text(card)).toContain("2 times");
    expect(replies.map((r) => r.method)).toEqual(["chat.postMessage"]);
    expect(text(replies[0])).toContain("Fired again");
    expect(text(replies[0])).toContain("PSI 0.41");
    const topLevel = await database.db
      .select({ payload: outbox.payload })
      .from(outbox)
      .where(and(eq(outbox.method, "chat.postMessage"), isNull(outbox.parentId)));
    expect(topLevel.filter((r) => String(r.payload.text).startsWith(`INC-${incident.id} [`))).toHaveLength(1);
    const [alert] = await database.db
      .select()
      .from(alerts)
      .where(eq(alerts.fingerprint, incident.fingerprint));
    expect(alert).toMatchObject({ fireCount: 2, state: "firing" });
  });

  it("many concurrent signals of a new fingerprint open exactly one incident and count every one", async () => {
    const clock = manualClock();
    const s = incidentServices(database, configWith(), clock);
    const subject = freshSubject();
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, () => s.intake.process([driftSignal(clock, { subject })])),
    );
    const ids = new Set(outcomes.map((o) => o[0]?.incidentId));
    expect(ids.size).toBe(1);
    expect(outcomes.filter((o) => o[0]?.effect === "opened")).toHaveLength(1);
    const { incident } = await rowsOf([...ids][0] as number);
    expect(incident.alertCount).toBe(30);
    const posts = await database.db
      .select({ n: count() })
      .from(outbox)
      .where(eq(outbox.id, incident.cardOutboxId as number));
    expect(posts[0]?.n).toBe(1);
  });

  it("repeat firings within group_interval are held and reported in one reply once it has passed", async () => {
    const clock = manualClock();
    const s = incidentServices(database, configWith({ group_interval: 60_000 }), clock);
    const subject = freshSubject();
    const [first] = await s.intake.process([driftSignal(clock, { subject })]);
    clock.advance(1000);
    await s.intake.process([driftSignal(clock, { subject })]); // reported at once
    clock.advance(1000);
    await s.intake.process([driftSignal(clock, { subject })]); // held
    clock.advance(1000);
    await s.intake.process([driftSignal(clock, { subject })]); // held
    let rows = await rowsOf(first?.incidentId as number);
    expect(rows.replies).toHaveLength(1);
    expect(rows.incident.pendingFirings).toBe(2);
    await s.ticker.tick();
    expect((await rowsOf(first?.incidentId as number)).replies).toHaveLength(1);
    clock.advance(60_000);
    await s.ticker.tick();
    rows = await rowsOf(first?.incidentId as number);
    expect(rows.replies).toHaveLength(2);
    expect(text(rows.replies[1])).toContain("2 times since the last note");
    expect(rows.incident.pendingFirings).toBe(0);
    expect(rows.events.map((e) => e.kind)).toContain("firings_reported");
  });

  it("while an unresolved incident keeps firing, a reminder goes into its thread every repeat_interval", async () => {
    const clock = manualClock();
    const s = incidentServices(database, configWith({ repeat_interval: 3_600_000 }), clock);
    const subject = freshSubject();
    const [first] = await s.intake.process([driftSignal(clock, { subject })]);
    clock.advance(3_600_000);
    await s.ticker.tick();
    clock.advance(1_800_000);
    await s.ticker.tick();
    const rows = await rowsOf(first?.incidentId as number);
    expect(rows.replies.map((r) => text(r))).toEqual([expect.stringContaining("Still firing after 1h")]);
    expect(rows.incident.nextReminderAt?.getTime()).toBe(clock.now().getTime() + 1_800_000);
  });

  it("a resolved signal resolves the incident with a summary; the next firing opens a new one", async () => {
    const clock = manualClock();
    const s = incidentServices(database, configWith(), clock);
    const subject = freshSubject();
    const [opened] = await s.intake.process([driftSignal(clock, { subject })]);
    clock.advance(20 * 60_000);
    const [resolved] = await s.intake.process([driftSignal(clock, { subject, status: "resolved" })]);
    expect(resolved).toMatchObject({ effect: "resolved", incidentId: opened?.incidentId });
    const rows = await rowsOf(opened?.incidentId as number);
    expect(rows.incident).toMatchObject({ state: "resolved", resolvedBy: "monitor", nextReminderAt: null });
    expect(rows.events.map((e) => e.kind)).toEqual([
      "opened",
      "alert_resolved",
      "resolved",
      "posted",
      "posted",
    ]);
    // The summary, then the review draft as a file in the thread.
    expect(rows.events.at(-1)?.detail).toEqual({
      what: "review",
      title: `INC-${opened?.incidentId}-review.md`,
    });
    expect(text(rows.replies.at(-2))).toContain("resolved* by monitor after 20m");
    expect(text(rows.replies.at(-1))).toContain(`INC-${opened?.incidentId} post-incident review`);
    clock.advance(60_000);
    const [again] = await s.intake.process([driftSignal(clock, { subject })]);
    expect(again?.effect).toBe("opened");
    expect(again?.incidentId).not.toBe(opened?.incidentId);
  });

  it("with resolve_with_alert off, a resolved alert leaves the incident open with a notice", async () => {
    const clock = manualClock();
    const s = incidentServices(database, configWith({ resolve_with_alert: false }), clock);
    const subject = freshSubject();
    const [opened] = await s.intake.process([driftSignal(clock, { subject })]);
    await s.intake.process([driftSignal(clock, { subject, status: "resolved" })]);
    const rows = await rowsOf(opened?.incidentId as number);
    expect(rows.incident.state).toBe("open");
    expect(text(rows.replies.at(-1))).toContain("The alert reports resolved");
  });

  it("group_wait holds a new card back, so firings meanwhile fold into it", async () => {
    const clock = manualClock();
    const s = incidentServices(database, configWith({ group_wait: 30_000 }), clock);
    const [opened] = await s.intake.process([driftSignal(clock, { subject: freshSubject() })]);
    const { card } = await rowsOf(opened?.incidentId as number);
    expect(card?.availableAt.getTime()).toBe(clock.now().getTime() + 30_000);
  });

  it("a bad signal refuses the whole batch with the index and field, and writes nothing", async () => {
    const clock = manualClock();
    const s = incidentServices(database, configWith(), clock);
    const before = await database.db.select({ n: count() }).from(alerts);
    const subject = freshSubject();
    const error = await s.intake
      .process([
        driftSignal(clock, { subject }),
        driftSignal(clock, { subject, title: "" }),
        driftSignal(clock, { model: "nope" }),
      ])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(InvalidSignalError);
    expect((error as InvalidSignalError).issues).toEqual([
      { index: 1, path: "title", message: expect.any(String) },
      { index: 2, path: "model", message: "unknown model 'nope'" },
    ]);
    expect((error as Error).message).toMatch(/^signal 1: title: .* \(and 1 more problems\)$/);
    const after = await database.db.select({ n: count() }).from(alerts);
    expect(after[0]?.n).toBe(before[0]?.n);
  });

  it("a firing and its resolution in one batch open and then resolve, in the order given", async () => {
    const clock = manualClock();
    const s = incidentServices(database, configWith(), clock);
    const subject = freshSubject();
    const outcomes = await s.intake.process([
      driftSignal(clock, { subject: freshSubject("other") }),
      driftSignal(clock, { subject }),
      driftSignal(clock, { subject, status: "resolved" }),
    ]);
    expect(outcomes.map((o) => o.effect)).toEqual(["opened", "opened", "resolved"]);
    expect(outcomes[2]?.incidentId).toBe(outcomes[1]?.incidentId);
  });
});
