import type { ChartSpec } from "../charts/spec.js";
import type { Db } from "../db/index.js";
import type { AlertSignal, AlertSink, MonitorRunRef } from "../shared/alert-signal.js";
import { SEVERITY_RANK } from "../shared/severity.js";
import { alertSignalSchema, fingerprintOf, nextReminderAt, onRepeatFiring } from "./alert-model.js";
import { createAlertRepository } from "./alert-repository.js";
import { channelOf, type IncidentDeps, policyOf, snapshotOf } from "./deps.js";
import { InvalidSignalError } from "./errors.js";
import { createGroupLifecycle, type Resolved } from "./group-lifecycle.js";
import { groupKeyOf, WHOLE_DATASET } from "./group-model.js";
import { createMemberRepository } from "./member-repository.js";
import { type Alert, EVENT_KINDS, type Incident, type Silence } from "./model.js";
import { createIncidentRepository } from "./repository.js";
import { observeStages } from "./service.js";
import { silenceActive, silenceMatches } from "./silence-model.js";

/** What a transaction's signals did that response metrics record once it commits. */
interface Committed {
  resolved: Resolved[];
  /** Incidents opened with the start of the data window that fired them (time to detect). */
  detected: { incident: Incident; dataFrom: Date }[];
}

/** Signals handled per transaction; a batch is split so no transaction holds locks for long. */
const CHUNK = 100;

/** What one signal did, for callers that want to know (the Alertmanager webhook, tests). */
export interface IntakeOutcome {
  fingerprint: string;
  incidentId: number | null;
  /** `noted`: an info finding posted to the model's channel without an incident. */
  effect: "opened" | "attached" | "joined" | "recovered" | "resolved" | "recorded" | "silenced" | "noted";
}

/** A firing signal's alert as recorded, the silence muting it (if any) and its timeline detail. */
interface Firing {
  alert: Alert;
  silence: Silence | null;
  detail: Record<string, unknown>;
  now: Date;
}

/** What a batch shares while its signals are handled one by one. */
interface BatchState {
  /** Incidents already counted as firing in this batch: one monitor run is one firing. */
  repeated: Set<number>;
  /** Incidents this batch opened: findings joining them are part of the opening, not news. */
  opened: Set<number>;
  /** Groups found still firing, whose repeat is said after the batch unless a member joined. */
  deferred: Map<number, Firing>;
  /** Incidents a member recovered in, checked for resolution once the batch's run is counted. */
  recovered: Set<number>;
  /** The monitor run the batch comes from, when it comes from one. */
  run: MonitorRunRef | undefined;
}

/** Checks a batch before anything is written; the whole batch is refused on the first bad signal. */
export function validateSignals(signals: readonly AlertSignal[], models: readonly string[]): AlertSignal[] {
  const issues: { index: number; path: string; message: string }[] = [];
  const parsed = signals.map((s, index) => {
    const result = alertSignalSchema.safeParse(s);
    if (!result.success) {
      for (const i of result.error.issues)
        issues.push({ index, path: i.path.map(String).join(".") || "(signal)", message: i.message });
      return s;
    }
    if (!models.includes(result.data.model))
      issues.push({ index, path: "model", message: `unknown model '${result.data.model}'` });
    return result.data as AlertSignal;
  });
  if (issues.length) {
    const first = issues[0] as (typeof issues)[number];
    throw new InvalidSignalError(
      `signal ${first.index}: ${first.path}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more problems)` : ""}`,
      issues,
    );
  }
  return parsed;
}

/**
 * The alerting hub's way in: each signal updates its fingerprint's alert and then opens an
 * incident, joins the open one (a thread reply under the notification policy, a counter on the
 * card), or resolves it. Signals of one fingerprint are serialised by the alert row lock; a batch
 * locks fingerprints in sorted order so concurrent batches cannot deadlock.
 */
export function createAlertIntake(deps: IncidentDeps) {
  const { db, clock, config, notifier } = deps;
  const policy = policyOf(config);
  const slugs = config.models.map((m) => m.slug);
  const { refreshCard, leadOf, settleIncident, followSeverity } = createGroupLifecycle(deps);

  async function handle(
    tx: Db,
    s: AlertSignal,
    active: readonly Silence[],
    charts: readonly ChartSpec[],
    committed: Committed,
    batch: BatchState,
  ): Promise<IntakeOutcome> {
    const now = clock.now();
    const fingerprint = fingerprintOf(s);
    const key = groupKeyOf(s, policy.groupBy);
    const alerts = createAlertRepository(tx);
    const incidents = createIncidentRepository(tx);
    const firing = s.status === "firing";
    // An info finding is news only when it starts firing: that is when the feed hears of it.
    const wasFiring =
      firing && s.severity === "info" ? (await alerts.stateOf(fingerprint)) === "firing" : false;
    const fields = {
      source: s.source,
      state: s.status,
      severity: s.severity,
      modelVersion: s.modelVersion ?? null,
      title: s.title,
      summary: s.summary,
      rule: s.rule,
      metrics: s.metrics,
      labels: s.labels ?? {},
      monitorRunId: s.monitorRunId ?? null,
      lastSeenAt: s.observedAt,
      resolvedAt: firing ? null : s.observedAt,
    };
    const alert =
      (await alerts.record(fingerprint, fields, firing)) ??
      (await alerts.insert({
        ...fields,
        fingerprint,
        model: s.model,
        monitor: s.monitor,
        subject: s.subject,
        firstSeenAt: s.observedAt,
        fireCount: firing ? 1 : 0,
      })) ??
      // A concurrent first insert of this fingerprint won: apply ours to its row.
      (await alerts.record(fingerprint, fields, firing));
    if (!alert) throw new Error(`alert ${fingerprint} neither inserted nor found`);
    // A silence on the member's own fingerprint, its model or monitor, or its group's key mutes it.
    const silence =
      active.find((x) => silenceActive(x, now) && silenceMatches(x, { ...alert, groupKey: key })) ?? null;
    const silenced = silence !== null;
    // An incident opened under the finding's own fingerprint (before grouping, or under an
    // earlier group_by) carries on until it resolves; new findings open or join the group's.
    const open =
      (key !== fingerprint ? await incidents.findOpen(fingerprint, true) : undefined) ??
      (await incidents.findOpen(key, true));
    const detail = {
      subject: s.subject,
      title: s.title,
      severity: s.severity,
      metrics: s.metrics,
      rule: s.rule,
      ...(s.monitorRunId ? { monitorRunId: s.monitorRunId } : {}),
      ...(silenced ? { silenced: true } : {}),
    };

    if (firing && !open) {
      if (silenced) return { fingerprint, incidentId: null, effect: "silenced" };
      // Info never opens an incident: a line in the model's channel when it starts firing, and
      // it joins its group's incident only while one is open for worse findings.
      if (s.severity === "info") {
        if (!wasFiring) await notifier.feed(tx, channelOf(config, s.model), alert);
        return { fingerprint, incidentId: null, effect: wasFiring ? "recorded" : "noted" };
      }
      const inserted = await incidents.insertOpen({
        fingerprint: key,
        alertId: alert.id,
        model: s.model,
        monitor: s.monitor,
        subject: s.subject,
        modelVersion: s.modelVersion ?? null,
        title: s.title,
        severity: s.severity,
        state: "open",
        channel: channelOf(config, s.model),
        openedAt: now,
        lastFiredAt: now,
        alertCount: 1,
        nextReminderAt: nextReminderAt(now, policy),
      });
      if (inserted) {
        await createMemberRepository(tx).join(inserted.id, alert.id, now);
        batch.repeated.add(inserted.id);
        batch.opened.add(inserted.id);
        const cardId = await notifier.postCard(
          tx,
          await snapshotOf(deps, tx, inserted, { alert, silence }),
          policy.groupWaitMs,
        );
        const carded = await incidents.update(inserted.id, { cardOutboxId: cardId });
        await incidents.addEvent({
          incidentId: inserted.id,
          at: now,
          kind: EVENT_KINDS.opened,
          actor: s.source,
          via: "alert",
          detail: {
            ...detail,
            fingerprint,
            ...(key !== fingerprint ? { group: key } : {}),
            summary: s.summary,
            ...(s.dataFrom ? { dataFrom: s.dataFrom.toISOString() } : {}),
          },
          outboxId: cardId,
        });
        if (s.dataFrom) committed.detected.push({ incident: carded, dataFrom: s.dataFrom });
        if (charts.length && notifier.postCharts) {
          const ids = await notifier.postCharts(tx, carded, charts);
          for (const [i, outboxId] of ids.entries())
            await incidents.addEvent({
              incidentId: inserted.id,
              at: now,
              kind: EVENT_KINDS.posted,
              actor: "system",
              via: "alert",
              detail: { what: "chart", title: charts[i]?.title ?? "chart" },
              outboxId,
            });
        }
        return { fingerprint, incidentId: inserted.id, effect: "opened" };
      }
      // Opened by someone else between our look and our insert: join it instead.
      const winner = await incidents.findOpen(key, true);
      if (!winner) throw new Error(`incident for ${key} neither inserted nor found`);
      return fire(tx, winner, { alert, silence, detail, now }, batch);
    }
    if (firing && open) return fire(tx, open, { alert, silence, detail, now }, batch);
    if (!firing && open) return recover(tx, open, alert, s, now, committed.resolved, batch);
    return { fingerprint, incidentId: null, effect: "recorded" };
  }

  /**
   * A firing signal for an open incident: a new member joins it (unless silenced), a recovered
   * member flips back to firing (a flap: the card changes, the incident stays one), and a member
   * still firing counts as the group firing again, once per batch.
   */
  async function fire(tx: Db, open: Incident, firing: Firing, batch: BatchState): Promise<IntakeOutcome> {
    const { alert, silence, detail, now } = firing;
    const members = createMemberRepository(tx);
    const incidents = createIncidentRepository(tx);
    const member = await members.find(open.id, alert.id);
    if (!member) {
      // A silenced finding does not fire into the group: recorded on its alert, nothing more.
      if (silence) return { fingerprint: alert.fingerprint, incidentId: null, effect: "silenced" };
      await members.join(open.id, alert.id, now);
      const count = (await members.of(open.id)).length;
      const outboxId = batch.opened.has(open.id)
        ? null
        : await notifier.reply(tx, open, { kind: "member_joined", alert, members: count });
      await incidents.addEvent({
        incidentId: open.id,
        at: now,
        kind: EVENT_KINDS.memberJoined,
        actor: alert.source,
        via: "alert",
        detail: { ...detail, members: count },
        outboxId,
      });
      if (batch.run && batch.repeated.has(open.id)) {
        await refreshCard(tx, open, { lastFiredAt: now }, silence);
        return { fingerprint: alert.fingerprint, incidentId: open.id, effect: "joined" };
      }
      batch.repeated.add(open.id);
      batch.deferred.delete(open.id);
      // The join is this batch's firing of the group, said by the join reply itself.
      await refreshCard(
        tx,
        open,
        { alertCount: open.alertCount + 1, lastFiredAt: now, lastNoteAt: now, pendingFirings: 0 },
        silence,
      );
      return { fingerprint: alert.fingerprint, incidentId: open.id, effect: "joined" };
    }
    if (member.state === "recovered") {
      await members.update(open.id, alert.id, {
        state: "firing",
        recoveredAt: null,
        cleanRuns: 0,
        lastCleanRunId: null,
        flaps: member.flaps + 1,
      });
      await incidents.addEvent({
        incidentId: open.id,
        at: now,
        kind: EVENT_KINDS.memberFiredAgain,
        actor: alert.source,
        via: "alert",
        detail: { ...detail, flaps: member.flaps + 1 },
      });
    }
    // Outside a monitor run (Alertmanager, people) every firing signal counts, as it always did.
    if (!batch.run) return attach(tx, open, firing);
    if (batch.repeated.has(open.id)) {
      await refreshCard(tx, open, { lastFiredAt: now }, silence);
      return { fingerprint: alert.fingerprint, incidentId: open.id, effect: "attached" };
    }
    // Whether this run's firing is news (a member joined) or a repeat is known only once the
    // whole batch is in: the repeat is said, or held, after it (`sayRepeats`).
    if (!batch.deferred.has(open.id)) batch.deferred.set(open.id, firing);
    if (member.state === "recovered") await refreshCard(tx, open, { lastFiredAt: now }, silence);
    return { fingerprint: alert.fingerprint, incidentId: open.id, effect: "attached" };
  }

  /**
   * The groups a batch found still firing without any member joining: one repeat firing each,
   * replied in the thread or held by group_interval as for a single alert.
   */
  async function sayRepeats(tx: Db, batch: BatchState, now: Date): Promise<void> {
    const incidents = createIncidentRepository(tx);
    for (const [id, r] of [...batch.deferred.entries()].sort(([a], [b]) => a - b)) {
      batch.deferred.delete(id);
      if (batch.repeated.has(id)) continue;
      batch.repeated.add(id);
      const open = await incidents.byId(id, true);
      if (open && open.state !== "resolved") await attach(tx, open, { ...r, now });
    }
  }

  async function attach(tx: Db, open: Incident, firing: Firing): Promise<IntakeOutcome> {
    const { alert, silence, detail, now } = firing;
    const silenced = silence !== null;
    const incidents = createIncidentRepository(tx);
    const decision = onRepeatFiring(open, now, policy);
    const patch: Partial<Incident> = {
      alertCount: open.alertCount + 1,
      lastFiredAt: now,
      title: alert.title,
      ...(open.severitySetBy ? {} : { severity: alert.severity }),
      nextReminderAt: open.nextReminderAt ?? nextReminderAt(now, policy),
      ...(await leadOf(tx, open)),
    };
    let outboxId: number | null = null;
    if (silenced) {
      // Muted: counted on the card, not announced, not held for later.
    } else if (decision.reply) {
      outboxId = await notifier.reply(tx, open, { kind: "firing_again", firings: decision.firings, alert });
      Object.assign(patch, { lastNoteAt: now, pendingFirings: 0 });
    } else {
      patch.pendingFirings = decision.firings;
    }
    const updated = await incidents.update(open.id, patch);
    await followSeverity(tx, open, updated);
    await incidents.addEvent({
      incidentId: open.id,
      at: now,
      kind: EVENT_KINDS.alertFired,
      actor: alert.source,
      via: "alert",
      detail: { ...detail, count: updated.alertCount },
      outboxId,
    });
    await notifier.updateCard(tx, await snapshotOf(deps, tx, updated, { alert, silence }));
    return { fingerprint: alert.fingerprint, incidentId: open.id, effect: "attached" };
  }

  /**
   * A resolved signal: its member recovers (the card marks it). Outside a monitor run (Alertmanager,
   * the dead-man's switch, people) a recovery counts as clean for good; a monitor run's recovery
   * counts its clean runs from this one, after the batch (`settle`).
   */
  async function recover(
    tx: Db,
    open: Incident,
    alert: Alert,
    s: AlertSignal,
    now: Date,
    resolvedHere: Resolved[],
    batch: BatchState,
  ): Promise<IntakeOutcome> {
    const members = createMemberRepository(tx);
    const incidents = createIncidentRepository(tx);
    const member = await members.find(open.id, alert.id);
    if (!member || member.state === "recovered")
      return { fingerprint: alert.fingerprint, incidentId: open.id, effect: "recorded" };
    const counted = batch.run !== undefined && s.source === "monitor";
    await members.update(open.id, alert.id, {
      state: "recovered",
      recoveredAt: now,
      cleanRuns: counted ? 0 : policy.resolveAfter,
      lastCleanRunId: null,
    });
    await incidents.addEvent({
      incidentId: open.id,
      at: now,
      kind: EVENT_KINDS.alertResolved,
      actor: s.source,
      via: "alert",
      detail: { subject: s.subject, title: s.title, metrics: s.metrics },
    });
    if (counted) {
      batch.recovered.add(open.id);
      await refreshCard(tx, open, {}, undefined);
      return { fingerprint: alert.fingerprint, incidentId: open.id, effect: "recovered" };
    }
    const effect = await settleIncident(tx, open.id, s.source, now, resolvedHere);
    return { fingerprint: alert.fingerprint, incidentId: open.id, effect };
  }

  /**
   * Validates and handles a batch; returns what each signal did, in the order given. `charts` are
   * the in-process detectors' charts per signal (never read from a request body).
   */
  async function process(
    signals: readonly AlertSignal[],
    charts: readonly (readonly ChartSpec[] | undefined)[] = [],
    run?: MonitorRunRef,
  ): Promise<IntakeOutcome[]> {
    const valid = validateSignals(signals, slugs);
    // By group, so a group's rows are locked in one order; within it the most severe first, so
    // the finding that opens a new group (and brings its charts) is the one that leads it.
    const order = valid
      .map((signal, index) => ({
        signal,
        index,
        key: groupKeyOf(signal, policy.groupBy),
        fingerprint: fingerprintOf(signal),
      }))
      .sort(
        (a, b) =>
          a.key.localeCompare(b.key) ||
          SEVERITY_RANK[a.signal.severity] - SEVERITY_RANK[b.signal.severity] ||
          // The dataset-wide finding (dataset drift) leads its run's group, as it does on the card.
          Number(b.signal.subject === WHOLE_DATASET) - Number(a.signal.subject === WHOLE_DATASET) ||
          a.fingerprint.localeCompare(b.fingerprint) ||
          a.index - b.index,
      );
    const outcomes: IntakeOutcome[] = new Array(valid.length);
    const done: Committed = { resolved: [], detected: [] };
    const batch: BatchState = {
      repeated: new Set(),
      opened: new Set(),
      deferred: new Map(),
      recovered: new Set(),
      run,
    };
    try {
      for (let i = 0; i < order.length; i += CHUNK) {
        const chunk = order.slice(i, i + CHUNK);
        const here: Committed = { resolved: [], detected: [] };
        await db.transaction(async (tx) => {
          // Silences are few and change rarely: read them once per transaction, match in memory.
          const active = await createAlertRepository(tx).activeSilences(clock.now());
          for (const item of chunk)
            outcomes[item.index] = await handle(
              tx,
              item.signal,
              active,
              charts[item.index] ?? [],
              here,
              batch,
            );
          await sayRepeats(tx, batch, clock.now());
        });
        // Committed: the incidents this chunk opened were detected, those it resolved reached resolve.
        done.resolved.push(...here.resolved);
        done.detected.push(...here.detected);
      }
      if (run) {
        const resolvedHere: Resolved[] = [];
        await db.transaction(async (tx) => settle(tx, run, batch, resolvedHere));
        done.resolved.push(...resolvedHere);
      }
    } finally {
      notifier.wake();
    }
    for (const d of done.detected)
      deps.stages?.(
        "detect",
        d.incident,
        Math.max(0, (d.incident.openedAt.getTime() - d.dataFrom.getTime()) / 1000),
      );
    for (const r of done.resolved) observeStages(deps, r.before, r.after);
    return outcomes;
  }

  /**
   * After a monitor run's signals: the run counts as clean for every recovered member of that
   * model's monitor in an unresolved incident, and each incident touched resolves when all its
   * members have been clean for `resolve_after` runs.
   */
  async function settle(tx: Db, run: MonitorRunRef, batch: BatchState, resolvedHere: Resolved[]) {
    const touched = await createMemberRepository(tx).countCleanRun(run.model, run.monitor, run.runId);
    const ids = [...new Set([...touched, ...batch.recovered])].sort((a, b) => a - b);
    for (const id of ids) await settleIncident(tx, id, "monitor", clock.now(), resolvedHere);
  }

  const sink: AlertSink = {
    async emit(signals, run) {
      // Charts are not part of a signal's checked shape: they travel beside it.
      await process(
        signals.map(({ charts: _charts, ...signal }) => signal),
        signals.map((s) => s.charts),
        run,
      );
    },
  };
  return { process, sink };
}

/** The alert intake. */
export type AlertIntake = ReturnType<typeof createAlertIntake>;
