import type { ChartSpec } from "../charts/spec.js";
import type { Db } from "../db/index.js";
import type { AlertSignal, AlertSink } from "../shared/alert-signal.js";
import { alertSignalSchema, fingerprintOf, nextReminderAt, onRepeatFiring } from "./alert-model.js";
import { createAlertRepository } from "./alert-repository.js";
import { channelOf, type IncidentDeps, policyOf, snapshotOf } from "./deps.js";
import { InvalidSignalError } from "./errors.js";
import { type Alert, EVENT_KINDS, type Incident, type Silence, summarizeResolution } from "./model.js";
import { createIncidentRepository } from "./repository.js";
import { postReview } from "./review-service.js";
import { observeStages } from "./service.js";
import { silenceActive, silenceMatches } from "./silence-model.js";

/** An incident a signal resolved, before and after. */
type Resolved = { before: Incident; after: Incident };

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
  effect: "opened" | "attached" | "resolved" | "recorded" | "silenced";
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

  async function handle(
    tx: Db,
    s: AlertSignal,
    active: readonly Silence[],
    charts: readonly ChartSpec[],
    committed: Committed,
  ): Promise<IntakeOutcome> {
    const now = clock.now();
    const fingerprint = fingerprintOf(s);
    const alerts = createAlertRepository(tx);
    const incidents = createIncidentRepository(tx);
    const firing = s.status === "firing";
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
    const silence = active.find((x) => silenceActive(x, now) && silenceMatches(x, alert)) ?? null;
    const silenced = silence !== null;
    const open = await incidents.findOpen(fingerprint, true);
    const detail = {
      title: s.title,
      severity: s.severity,
      metrics: s.metrics,
      rule: s.rule,
      ...(s.monitorRunId ? { monitorRunId: s.monitorRunId } : {}),
      ...(silenced ? { silenced: true } : {}),
    };

    if (firing && !open) {
      if (silenced) return { fingerprint, incidentId: null, effect: "silenced" };
      const inserted = await incidents.insertOpen({
        fingerprint,
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
      const winner = await incidents.findOpen(fingerprint, true);
      if (!winner) throw new Error(`incident for ${fingerprint} neither inserted nor found`);
      return attach(tx, winner, alert, silence, detail, now);
    }
    if (firing && open) return attach(tx, open, alert, silence, detail, now);
    if (!firing && open) return resolve(tx, open, alert, silence, s, now, committed.resolved);
    return { fingerprint, incidentId: null, effect: "recorded" };
  }

  async function attach(
    tx: Db,
    open: Incident,
    alert: Alert,
    silence: Silence | null,
    detail: Record<string, unknown>,
    now: Date,
  ): Promise<IntakeOutcome> {
    const silenced = silence !== null;
    const incidents = createIncidentRepository(tx);
    const decision = onRepeatFiring(open, now, policy);
    const patch: Partial<Incident> = {
      alertCount: open.alertCount + 1,
      lastFiredAt: now,
      title: alert.title,
      severity: alert.severity,
      nextReminderAt: open.nextReminderAt ?? nextReminderAt(now, policy),
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

  async function resolve(
    tx: Db,
    open: Incident,
    alert: Alert,
    silence: Silence | null,
    s: AlertSignal,
    now: Date,
    resolvedHere: Resolved[],
  ): Promise<IntakeOutcome> {
    const silenced = silence !== null;
    const incidents = createIncidentRepository(tx);
    await incidents.addEvent({
      incidentId: open.id,
      at: now,
      kind: EVENT_KINDS.alertResolved,
      actor: s.source,
      via: "alert",
      detail: { title: s.title, metrics: s.metrics },
    });
    if (!policy.resolveWithAlert) {
      const updated = await incidents.update(open.id, { nextReminderAt: null });
      if (!silenced) {
        const outboxId = await notifier.reply(tx, updated, { kind: "alert_resolved", alert });
        await incidents.addEvent({
          incidentId: open.id,
          at: now,
          kind: EVENT_KINDS.posted,
          actor: "system",
          via: "alert",
          detail: { what: "alert resolved notice" },
          outboxId,
        });
      }
      await notifier.updateCard(tx, await snapshotOf(deps, tx, updated, { alert, silence }));
      return { fingerprint: alert.fingerprint, incidentId: open.id, effect: "recorded" };
    }
    const updated = await incidents.update(open.id, {
      state: "resolved",
      resolvedAt: now,
      resolvedBy: s.source,
      resolution: "The alert reported resolved.",
      nextReminderAt: null,
      updateDueAt: null,
      pendingFirings: 0,
    });
    await incidents.addEvent({
      incidentId: open.id,
      at: now,
      kind: EVENT_KINDS.resolved,
      actor: s.source,
      via: "alert",
      detail: { from: open.state, to: "resolved", note: "The alert reported resolved." },
    });
    resolvedHere.push({ before: open, after: updated });
    const summary = summarizeResolution(updated, await incidents.timeline(open.id));
    const outboxId = await notifier.reply(tx, updated, { kind: "resolved", summary });
    await incidents.addEvent({
      incidentId: open.id,
      at: now,
      kind: EVENT_KINDS.posted,
      actor: "system",
      via: "alert",
      detail: { what: "resolution summary" },
      outboxId,
    });
    await notifier.updateCard(tx, await snapshotOf(deps, tx, updated, { alert, silence: null }));
    await postReview(deps, tx, updated, "alert");
    return { fingerprint: alert.fingerprint, incidentId: open.id, effect: "resolved" };
  }

  /**
   * Validates and handles a batch; returns what each signal did, in the order given. `charts` are
   * the in-process detectors' charts per signal (never read from a request body).
   */
  async function process(
    signals: readonly AlertSignal[],
    charts: readonly (readonly ChartSpec[] | undefined)[] = [],
  ): Promise<IntakeOutcome[]> {
    const valid = validateSignals(signals, slugs);
    const order = valid
      .map((signal, index) => ({ signal, index, fingerprint: fingerprintOf(signal) }))
      .sort((a, b) =>
        a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : a.index - b.index,
      );
    const outcomes: IntakeOutcome[] = new Array(valid.length);
    const done: Committed = { resolved: [], detected: [] };
    try {
      for (let i = 0; i < order.length; i += CHUNK) {
        const chunk = order.slice(i, i + CHUNK);
        const here: Committed = { resolved: [], detected: [] };
        await db.transaction(async (tx) => {
          // Silences are few and change rarely: read them once per transaction, match in memory.
          const active = await createAlertRepository(tx).activeSilences(clock.now());
          for (const item of chunk)
            outcomes[item.index] = await handle(tx, item.signal, active, charts[item.index] ?? [], here);
        });
        // Committed: the incidents this chunk opened were detected, those it resolved reached resolve.
        done.resolved.push(...here.resolved);
        done.detected.push(...here.detected);
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

  const sink: AlertSink = {
    async emit(signals) {
      // Charts are not part of a signal's checked shape: they travel beside it.
      await process(
        signals.map(({ charts: _charts, ...signal }) => signal),
        signals.map((s) => s.charts),
      );
    },
  };
  return { process, sink };
}

/** The alert intake. */
export type AlertIntake = ReturnType<typeof createAlertIntake>;
