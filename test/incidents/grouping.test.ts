/**
 * Findings grouped into incidents by `alerting.group_by` (default [model, monitor]), on a real
 * database with the real outbox notifier: members join, recover, flap and resolve the group after
 * `resolve_after` clean runs. Each test uses a monitor name of its own, so its group is its own.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/index.js";
import type { Database } from "../../src/db/index.js";
import { incidentEvents, incidents, outbox } from "../../src/db/schema/index.js";
import { createAlertRepository } from "../../src/incidents/alert-repository.js";
import { fingerprintOf } from "../../src/incidents/index.js";
import { createMemberRepository } from "../../src/incidents/member-repository.js";
import { suggestFor } from "../../src/runbooks/index.js";
import type { AlertSignal } from "../../src/shared/alert-signal.js";
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
const MIN = 60_000;
/** The shipped default: findings of one model's monitor share an incident. */
const grouped = (over: Parameters<typeof configWith>[0] = {}) =>
  incidentServices(database, configWith({ group_by: ["model", "monitor"], ...over }), clock);

function feature(
  monitor: string,
  subject: string,
  value: number,
  over: Partial<AlertSignal> = {},
): AlertSignal {
  return driftSignal(clock, {
    monitor,
    subject,
    title: `Drift in ${subject}: PSI ${value}`,
    metrics: { method: "psi", value, statistic: value, threshold: 0.2 },
    observedAt: clock.now(),
    ...over,
  });
}
const recovered = (s: AlertSignal): AlertSignal => ({
  ...s,
  status: "resolved",
  title: `Resolved: ${s.title}`,
});

async function stateOf(id: number) {
  const [incident] = await database.db.select().from(incidents).where(eq(incidents.id, id));
  if (!incident) throw new Error(`no incident ${id}`);
  const events = await database.db
    .select()
    .from(incidentEvents)
    .where(eq(incidentEvents.incidentId, id))
    .orderBy(incidentEvents.id);
  const cardId = incident.cardOutboxId as number;
  const writes = await database.db
    .select()
    .from(outbox)
    .where(eq(outbox.parentId, cardId))
    .orderBy(outbox.id);
  const members = await createMemberRepository(database.db).of(id);
  const cards = await database.db.select().from(outbox).where(eq(outbox.id, cardId));
  return {
    incident,
    kinds: events.map((e) => `${e.kind}${e.detail.subject ? `:${String(e.detail.subject)}` : ""}`),
    events,
    replies: writes.filter((w) => w.method === "chat.postMessage"),
    cards,
    /** The card as it will be posted: edits of a card not delivered yet fold into it. */
    card: JSON.stringify(cards[0]?.payload ?? {}),
    members: Object.fromEntries(members.map((m) => [m.alert.subject, `${m.state}/${m.cleanRuns}`])),
  };
}

describe("findings group into incidents by alerting.group_by", () => {
  it("one run's findings open one incident with one card; the most severe leads it; nothing is said per member", async () => {
    const s = grouped();
    const monitor = freshSubject("drift");
    const outcomes = await s.intake.process(
      [
        feature(monitor, "amount", 0.5),
        feature(monitor, "channel", 0.9),
        feature(monitor, "dataset", 0, {
          severity: "critical",
          title: "Dataset drift: 60% of features drifted",
          metrics: { drift_share: 0.6, threshold: 0.5 },
        }),
      ],
      [],
      { model: "fraud-detector", monitor, runId: 1 },
    );
    const ids = new Set(outcomes.map((o) => o.incidentId));
    expect(ids.size).toBe(1);
    const id = outcomes[0]?.incidentId as number;
    expect(outcomes.map((o) => o.effect).sort()).toEqual(["joined", "joined", "opened"]);
    const st = await stateOf(id);
    expect(st.cards).toHaveLength(1);
    expect(st.replies).toHaveLength(0);
    expect(st.incident).toMatchObject({
      severity: "critical",
      subject: "dataset",
      title: "Dataset drift: 60% of features drifted (+2 more)",
      alertCount: 1,
    });
    expect(st.incident.fingerprint).not.toBe(
      fingerprintOf({ model: "fraud-detector", monitor, subject: "amount" }),
    );
    expect(st.kinds.sort()).toEqual(["member_joined:amount", "member_joined:channel", "opened:dataset"]);
    // The card (not delivered yet, so its edits fold into it) lists them ranked: dataset drift,
    // then channel (PSI 0.9) before amount (0.5).
    const card = st.card;
    expect(card).toContain("*Findings* (3 firing, 0 recovered)");
    expect(card.indexOf("*dataset*")).toBeLessThan(card.indexOf("*channel*"));
    expect(card.indexOf("*channel*")).toBeLessThan(card.indexOf("*amount*"));
    expect(card).toContain("PSI &gt;= 0.2 (fixed threshold)");
  });

  it("with feature importances the card lists drifted features by importance × score: an important moderate drift before a large unimportant one", async () => {
    const s = grouped();
    const monitor = freshSubject("drift");
    // What the drift monitor reports for features[].importance: income 3, zip 0.5 (PSI threshold 0.2).
    const ranked = (subject: string, value: number, importance: number) =>
      feature(monitor, subject, value, {
        metrics: {
          method: "psi",
          value,
          statistic: value,
          threshold: 0.2,
          importance,
          rank_score: (importance * value) / 0.2,
        },
      });
    const outcomes = await s.intake.process(
      [ranked("zip", 0.9, 0.5), ranked("income", 0.5, 3), ranked("age", 0.3, 1)],
      [],
      { model: "fraud-detector", monitor, runId: 1 },
    );
    const st = await stateOf(outcomes[0]?.incidentId as number);
    const card = st.card;
    expect(card).toContain("*Findings* (3 firing, 0 recovered)");
    // income 3 × 2.5 = 7.5, age 1 × 1.5 = 1.5, zip 0.5 × 4.5 = 2.25: income, zip, age.
    expect(card.indexOf("*income*")).toBeLessThan(card.indexOf("*zip*"));
    expect(card.indexOf("*zip*")).toBeLessThan(card.indexOf("*age*"));
    expect(card).toContain("importance");
    expect(st.incident.title).toBe("Drift in income: PSI 0.5 (+2 more)");
  });

  it("a finding that starts firing later joins the open incident: a thread reply with its numbers, the card updated, one firing per run", async () => {
    const s = grouped();
    const monitor = freshSubject("drift");
    const run = (runId: number) => ({ model: "fraud-detector", monitor, runId });
    const [first] = await s.intake.process([feature(monitor, "amount", 0.5)], [], run(1));
    const id = first?.incidentId as number;
    clock.advance(60 * MIN);
    const second = await s.intake.process(
      [feature(monitor, "amount", 0.6), feature(monitor, "country", 0.4)],
      [],
      run(2),
    );
    expect(second.map((o) => o.incidentId)).toEqual([id, id]);
    const st = await stateOf(id);
    expect(st.cards).toHaveLength(1);
    expect(st.incident.alertCount).toBe(2);
    expect(st.replies).toHaveLength(1);
    expect(JSON.stringify(st.replies[0]?.payload)).toMatch(
      /Joined this incident.*Drift in country: PSI 0.4.*2 findings now/,
    );
    expect(st.kinds).toContain("member_joined:country");
    expect(st.card).toContain("*country*");
    expect(st.members).toEqual({ amount: "firing/0", country: "firing/0" });
  });

  it("recovered members stay on the card; the incident resolves after resolve_after clean runs, and a flap in between flips back without reopening", async () => {
    const s = grouped({ resolve_after: 2 });
    const monitor = freshSubject("drift");
    const run = (runId: number) => ({ model: "fraud-detector", monitor, runId });
    const amount = feature(monitor, "amount", 0.5);
    const channel = feature(monitor, "channel", 0.4);
    const [first] = await s.intake.process([amount, channel], [], run(1));
    const id = first?.incidentId as number;

    // Run 2: amount recovers, channel still drifts.
    await s.intake.process([feature(monitor, "channel", 0.4), recovered(amount)], [], run(2));
    expect((await stateOf(id)).members).toEqual({ amount: "recovered/1", channel: "firing/0" });
    // Run 3: channel recovers too; amount has two clean runs, channel one: still open.
    await s.intake.process([recovered(channel)], [], run(3));
    let st = await stateOf(id);
    expect(st.members).toEqual({ amount: "recovered/2", channel: "recovered/1" });
    expect(st.incident.state).toBe("open");
    expect(st.card).toContain("clean 1/2 runs");
    // Run 4: amount flaps back: it flips on the same incident, whose clean runs start again.
    const flap = await s.intake.process([feature(monitor, "amount", 0.7)], [], run(4));
    expect(flap[0]).toMatchObject({ incidentId: id, effect: "attached" });
    st = await stateOf(id);
    expect(st.members).toEqual({ amount: "firing/0", channel: "recovered/2" });
    expect(st.incident.state).toBe("open");
    expect(st.kinds).toContain("member_fired_again:amount");
    const again = st.events.find((e) => e.kind === "member_fired_again");
    expect(again?.detail).toMatchObject({ metrics: { value: 0.7 }, flaps: 1 });
    // A run counted twice (the same run id handed over again) does not count twice.
    await s.intake.process([recovered(amount)], [], run(5));
    await s.intake.process([], [], run(5));
    expect((await stateOf(id)).members).toEqual({ amount: "recovered/1", channel: "recovered/3" });
    // Run 6: the second clean run of amount: every member is clean for 2 runs, the incident resolves.
    await s.intake.process([], [], run(6));
    st = await stateOf(id);
    expect(st.incident).toMatchObject({ state: "resolved", resolvedBy: "monitor" });
    expect(st.incident.resolution).toBe("All 2 findings recovered and stayed so for 2 runs.");
    // After it only what was posted: the resolution summary and the review draft.
    expect(st.kinds.filter((k) => k !== "posted").at(-1)).toBe("resolved");
    expect(st.replies.some((r) => JSON.stringify(r.payload).includes("resolved*"))).toBe(true);
    // The same feature drifting later opens a new incident: resolved is final.
    const [later] = await s.intake.process([feature(monitor, "amount", 0.5)], [], run(7));
    expect(later).toMatchObject({ effect: "opened" });
    expect(later?.incidentId).not.toBe(id);
  });

  it("a run that was not handed over (skipped, failed) counts for nothing; another monitor's runs do not count either", async () => {
    const s = grouped({ resolve_after: 1 });
    const monitor = freshSubject("drift");
    const amount = feature(monitor, "amount", 0.5);
    const [first] = await s.intake.process([amount], [], { model: "fraud-detector", monitor, runId: 1 });
    const id = first?.incidentId as number;
    await s.intake.process([feature(monitor, "channel", 0.3)], [], {
      model: "fraud-detector",
      monitor,
      runId: 2,
    });
    await s.intake.process([recovered(amount)], [], { model: "fraud-detector", monitor, runId: 3 });
    expect((await stateOf(id)).incident.state).toBe("open");
    await s.intake.process([], [], { model: "fraud-detector", monitor: freshSubject("other"), runId: 4 });
    expect((await stateOf(id)).members).toEqual({ amount: "recovered/1", channel: "firing/0" });
  });

  it("a silenced feature does not fire into the group; the others still join, and a silence set from the incident mutes the whole group", async () => {
    const s = grouped();
    const monitor = freshSubject("drift");
    const run = (runId: number) => ({ model: "fraud-detector", monitor, runId });
    const [first] = await s.intake.process([feature(monitor, "amount", 0.5)], [], run(1));
    const id = first?.incidentId as number;
    // A silence on one finding (its own fingerprint), as the silences table allows.
    await s.intake.process([], [], run(2));
    await createAlertRepository(database.db).insertSilence({
      fingerprint: fingerprintOf({ model: "fraud-detector", monitor, subject: "country" }),
      startsAt: clock.now(),
      endsAt: new Date(clock.now().getTime() + 60 * MIN),
      createdBy: "U0DANA",
      reason: "known upstream change",
    });
    const outcomes = await s.intake.process(
      [feature(monitor, "country", 0.6), feature(monitor, "channel", 0.3)],
      [],
      run(3),
    );
    expect(outcomes.map((o) => o.effect)).toEqual(["silenced", "joined"]);
    let st = await stateOf(id);
    expect(Object.keys(st.members).sort()).toEqual(["amount", "channel"]);
    expect(st.kinds).not.toContain("member_joined:country");
    // Silencing the incident mutes every member: a new one is recorded, not joined.
    const silenced = await s.silences.create({
      target: { kind: "incident", incidentId: id },
      durationMs: 60 * MIN,
      reason: "on it",
      actor: "U0DANA",
      via: "command",
    });
    expect(silenced.outcome).toBe("done");
    const [muted] = await s.intake.process([feature(monitor, "merchant_category", 0.5)], [], run(4));
    expect(muted?.effect).toBe("silenced");
    st = await stateOf(id);
    expect(Object.keys(st.members).sort()).toEqual(["amount", "channel"]);
  });

  it("alerts from Alertmanager are not regrouped: one incident per alert, resolved by its resolved notification", async () => {
    const s = grouped();
    const am = (subject: string, status: "firing" | "resolved" = "firing") =>
      driftSignal(clock, { source: "alertmanager", monitor: "HighLatency", subject, status });
    const a = freshSubject("am");
    const b = freshSubject("am");
    const outcomes = await s.intake.process([am(a), am(b)]);
    expect(outcomes.map((o) => o.effect)).toEqual(["opened", "opened"]);
    expect(new Set(outcomes.map((o) => o.incidentId)).size).toBe(2);
    const [done] = await s.intake.process([am(a, "resolved")]);
    expect(done?.effect).toBe("resolved");
  });

  it("an incident opened under a finding's own fingerprint carries on under grouping until it resolves", async () => {
    const monitor = freshSubject("drift");
    const perFinding = incidentServices(database, configWith(), clock);
    const [old] = await perFinding.intake.process([feature(monitor, "amount", 0.5)]);
    const s = grouped();
    // Whichever the batch handles first (its order follows fingerprint hashes), amount stays in
    // its own incident and the others make the group's.
    const again = await s.intake.process(
      [
        feature(monitor, "amount", 0.6),
        feature(monitor, "channel", 0.4),
        feature(monitor, "country", 0.3),
        feature(monitor, "merchant_category", 0.3),
      ],
      [],
      { model: "fraud-detector", monitor, runId: 1 },
    );
    expect(again[0]).toMatchObject({ incidentId: old?.incidentId, effect: "attached" });
    const group = new Set(again.slice(1).map((o) => o.incidentId));
    expect(group.size).toBe(1);
    expect(group.has(old?.incidentId ?? null)).toBe(false);
    // Its recovery resolves it (outside a run, a recovery is final), leaving the group open.
    const [done] = await s.intake.process([recovered(feature(monitor, "amount", 0.1))]);
    expect(done).toMatchObject({ incidentId: old?.incidentId, effect: "resolved" });
  });

  it("one incident per finding when group_by lists every label: the fingerprint is the alert's own", async () => {
    const s = incidentServices(database, configWith({ group_by: ["model", "monitor", "subject"] }), clock);
    const monitor = freshSubject("drift");
    const outcomes = await s.intake.process([
      feature(monitor, "amount", 0.5),
      feature(monitor, "channel", 0.4),
    ]);
    expect(outcomes.map((o) => o.effect)).toEqual(["opened", "opened"]);
    const st = await stateOf(outcomes[0]?.incidentId as number);
    expect(st.incident.fingerprint).toBe(
      fingerprintOf({ model: "fraud-detector", monitor, subject: "amount" }),
    );
    expect(JSON.stringify(st.cards[0]?.payload)).not.toContain("*Findings*");
  });
});

describe("alerting.group_by in the config", () => {
  const base = [
    'workspace: { name: t, alert_channel: "#a", user_groups: { l1: { handle: l1 }, l2: { handle: l2 } } }',
    "models:",
    "  - { slug: m, name: M, task: binary_classification, owners: l2, features: [{ name: x, type: numeric }] }",
  ].join("\n");
  const yaml = (groupBy: string) => `${base}\nalerting: { group_by: ${groupBy} }\n`;

  it("defaults to [model, monitor] with resolve_after 2", () => {
    const config = parseConfig(`${base}\n`, "t.yaml", {});
    expect(config.alerting.group_by).toEqual(["model", "monitor"]);
    expect(config.alerting.resolve_after).toBe(2);
  });

  it.each([
    [
      "[model, feature]",
      /alerting\.group_by.*unknown label 'feature' \(expected one of: model, monitor, subject\)/s,
    ],
    ["[monitor, subject]", /alerting\.group_by.*must include 'model'/s],
    ["[model, model]", /alerting\.group_by.*lists a label twice/s],
    ["[]", /alerting\.group_by/],
  ])("a bad group_by %s is a config error saying what is wrong", (groupBy, message) => {
    expect(() => parseConfig(yaml(groupBy), "t.yaml", {})).toThrow(ConfigError);
    expect(() => parseConfig(yaml(groupBy), "t.yaml", {})).toThrow(message);
  });
});

describe("runbook suggestions of a group", () => {
  it("a runbook whose when names a subject is suggested while that subject fires in the group", () => {
    const runbooks: {
      name: string;
      when: { models: string[]; monitors: string[]; labels: Record<string, string> };
    }[] = [
      { name: "amount-fix", when: { models: [], monitors: ["drift"], labels: { subject: "amount" } } },
      { name: "any-drift", when: { models: [], monitors: ["drift"], labels: {} } },
    ];
    const incident = { model: "fraud-detector", monitor: "drift", severity: "critical", subject: "dataset" };
    expect(suggestFor(runbooks, incident)).toEqual(["any-drift"]);
    expect(suggestFor(runbooks, incident, ["dataset", "amount"])).toEqual(["amount-fix", "any-drift"]);
  });
});
