/**
 * On call and pages in a report, read from the incident timeline: per incident who was on call
 * when a tier paged through a schedule, which pagers beyond Slack were triggered and how that
 * went, and who acknowledged from where; and the pager outcomes over the period.
 */
import { sql } from "drizzle-orm";
import type { PagerConfig } from "../config/pagers.js";
import { resultRows } from "../db/client.js";
import type { Db } from "../db/index.js";
import { pagerLabel } from "../pagers/model.js";

/** At most this many incidents are read for the section (the newest). */
const MAX_INCIDENTS = 200;

/** What a pager trigger came to: accepted by the provider, given up, or not sent (answered first). */
export type PagerOutcomeKind = "accepted" | "failed" | "cancelled";

/** One incident's on-call story. */
export interface IncidentPaging {
  id: number;
  title: string;
  /** The tiers paged, in order (`L2`), with the schedule's person on call when the tier had one. */
  pages: { tier: number; schedule: string | null; onCall: string | null }[];
  /** Triggers beyond Slack: the pager as people say it, the outcome, whose own rule it was. */
  pagers: { pager: string; outcome: PagerOutcomeKind; person: string | null }[];
  /** The first acknowledgement: who, from where (`Slack`, or the provider), how long after opening. */
  acknowledged: { by: string; from: string; afterMs: number } | null;
}

/** The section's numbers. */
export interface OnCallReport {
  incidents: IncidentPaging[];
  /** Per pager (as people say it): how many triggers came to each outcome. */
  pagerOutcomes: { pager: string; accepted: number; failed: number; cancelled: number }[];
}

const time = (v: unknown) => (v instanceof Date ? v : new Date(String(v)));

/** Reads the section for incidents of `model` opened in [from, to) that were paged or acknowledged. */
export async function onCallReport(
  db: Db,
  f: { model: string; from: Date; to: Date },
  pagers: Readonly<Record<string, PagerConfig>>,
): Promise<OnCallReport> {
  const rows = resultRows<{
    id: number | string;
    title: string;
    opened_at: unknown;
    kind: string;
    at: unknown;
    actor: string | null;
    detail: Record<string, unknown> | null;
  }>(
    await db.execute(sql`select i.id, i.title, i.opened_at, e.kind, e.at, e.actor, e.detail
      from incidents i join incident_events e on e.incident_id = i.id
      where i.id in (select id from incidents where model = ${f.model}
          and opened_at >= ${f.from.toISOString()}::timestamptz and opened_at < ${f.to.toISOString()}::timestamptz
          order by opened_at desc, id desc limit ${MAX_INCIDENTS})
        and e.kind in ('paged', 'pager_sent', 'pager_failed', 'pager_skipped', 'acknowledged')
      order by i.opened_at desc, i.id desc, e.at, e.id`),
  );
  const label = (name: string) => {
    const p = pagers[name];
    return p ? pagerLabel(name, p) : name;
  };
  const byId = new Map<number, IncidentPaging>();
  const outcomes = new Map<string, { pager: string; accepted: number; failed: number; cancelled: number }>();
  for (const r of rows) {
    const id = Number(r.id);
    const d = r.detail ?? {};
    let inc = byId.get(id);
    if (!inc) {
      inc = { id, title: r.title, pages: [], pagers: [], acknowledged: null };
      byId.set(id, inc);
    }
    if (r.kind === "paged") {
      inc.pages.push({
        tier: Number(d.tier),
        schedule: typeof d.schedule === "string" ? d.schedule : null,
        onCall: typeof d.onCall === "string" ? d.onCall : null,
      });
      continue;
    }
    if (r.kind === "acknowledged") {
      inc.acknowledged ??= {
        by: r.actor ?? "?",
        from: typeof d.answeredFrom === "string" ? d.answeredFrom : "Slack",
        afterMs: Math.max(0, time(r.at).getTime() - time(r.opened_at).getTime()),
      };
      continue;
    }
    // Pages beyond Slack: triggers only (acknowledge and resolve follow Slack), and a failure
    // only once it is given up (the earlier attempts are retries).
    if (d.action !== "trigger" || typeof d.pager !== "string") continue;
    if (r.kind === "pager_failed" && d.final !== true) continue;
    const outcome: PagerOutcomeKind =
      r.kind === "pager_sent" ? "accepted" : r.kind === "pager_failed" ? "failed" : "cancelled";
    const pager = label(d.pager);
    inc.pagers.push({ pager, outcome, person: typeof d.person === "string" ? d.person : null });
    const tally = outcomes.get(pager) ?? { pager, accepted: 0, failed: 0, cancelled: 0 };
    tally[outcome]++;
    outcomes.set(pager, tally);
  }
  return {
    incidents: [...byId.values()],
    pagerOutcomes: [...outcomes.values()].sort((a, b) => (a.pager < b.pager ? -1 : 1)),
  };
}
