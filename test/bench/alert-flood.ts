/**
 * Issue 4's second target: 10,000 alerts across 100 fingerprints in one minute → 100 incidents,
 * every thread reply delivered, no channel written faster than Slack's one message per second
 * sustained, nothing lost. Alerts come in over the Alertmanager webhook of the bot (its own process
 * on Postgres); Slack is a sandbox server in this process, whose request log is the evidence.
 */
import postgres from "postgres";
import { maxInWindow, postJson, startAlertBenchBot, waitDrained } from "./alert-support.js";
import { envNumber } from "./env.js";
import { ms, overrideNote, percentile, sleep } from "./support.js";
import type { Bench, Section, TargetRow } from "./types.js";

const MODELS = 10;
const ALERTNAMES = 10;

function configYaml(): string {
  const models = Array.from(
    { length: MODELS },
    (_, m) => `  - slug: flood-${m}
    name: Flood model ${m}
    task: binary_classification
    owners: team
    alert_channel: "#flood-${m}-alerts"
    features:
      - { name: amount, type: numeric }
`,
  ).join("");
  return `workspace:
  alert_channel: "#alerts"
  user_groups: { l1: { handle: ops }, l2: { handle: ds }, team: { handle: team } }
models:
${models}`;
}

/** One webhook body: every fingerprint fires once (10 models × 10 alert names). */
function webhook(round: number) {
  const startsAt = new Date(Date.now() - 60_000).toISOString();
  const alerts = [];
  for (let m = 0; m < MODELS; m++) {
    for (let k = 0; k < ALERTNAMES; k++) {
      alerts.push({
        status: "firing",
        labels: { alertname: `FloodAlert${k}`, model: `flood-${m}`, severity: "warning", job: "flood" },
        annotations: { summary: `Flood alert ${k} on model ${m}`, value: String(round) },
        startsAt,
        endsAt: "0001-01-01T00:00:00Z",
      });
    }
  }
  return { version: "4", status: "firing", receiver: "mlops-bot", groupKey: `flood-${round}`, alerts };
}

export const alertFloodBench: Bench = {
  name: "alert-flood",
  title: "10,000 alerts in a minute",
  async run(ctx): Promise<Section> {
    const rounds = envNumber("BENCH_FLOOD_ROUNDS", 100);
    const spanMs = envNumber("BENCH_FLOOD_SPAN_MS", 60_000);
    const total = rounds * MODELS * ALERTNAMES;
    const measuredAt = new Date().toISOString();
    const bot = await startAlertBenchBot(configYaml());
    const sql = postgres(bot.databaseUrl, { max: 1, onnotice: () => {} });
    const { workspace } = bot.sandbox;
    try {
      ctx.log(`alert-flood: ${total} alerts in ${rounds} webhook calls over ${spanMs / 1000} s`);
      const started = Date.now();
      const latencies: number[] = [];
      const statuses = new Map<number, number>();
      const calls: Promise<void>[] = [];
      for (let r = 0; r < rounds; r++) {
        const due = started + (r * spanMs) / rounds;
        if (due > Date.now()) await sleep(due - Date.now());
        const body = webhook(r);
        const t0 = performance.now();
        calls.push(
          postJson(`${bot.url}/api/v1/alertmanager`, body).then((res) => {
            latencies.push(performance.now() - t0);
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          }),
        );
      }
      await Promise.all(calls);
      const floodSeconds = (Date.now() - started) / 1000;
      ctx.log(
        `alert-flood: all ${rounds} calls answered after ${floodSeconds.toFixed(1)} s; waiting for Slack`,
      );

      // Drained: nothing left in the outbox and no firings held back by group_interval.
      await waitDrained(sql, 500);
      const drainedSeconds = (Date.now() - started) / 1000;

      const [db] = await sql<
        {
          incidents: number;
          counted: number;
          fired: number;
          events: number;
          failed: number;
          replies: number;
        }[]
      >`select (select count(*)::int from incidents) as incidents,
               (select sum(alert_count)::int from incidents) as counted,
               (select sum(fire_count)::int from alerts) as fired,
               (select count(*)::int from incident_events where kind in ('opened', 'alert_fired')) as events,
               (select count(*)::int from outbox where state = 'failed') as failed,
               (select count(*)::int from outbox where method = 'chat.postMessage' and parent_id is not null and state = 'sent') as replies`;
      if (!db) throw new Error("no counts");

      // What Slack got: thread replies, the firings they report, and the pace per channel.
      const cards = workspace.allMessages().filter((m) => !m.thread_ts || m.thread_ts === m.ts);
      const replies = workspace.allMessages().filter((m) => m.thread_ts && m.thread_ts !== m.ts);
      const reported = replies.reduce((n, m) => {
        const match = /Fired again(?: \((\d+) times since the last note\))?/.exec(m.text);
        return n + (match ? Number(match[1] ?? 1) : 0);
      }, 0);
      const writes = workspace
        .requests()
        .filter((r) => (r.method === "chat.postMessage" || r.method === "chat.update") && r.status === 200);
      const perChannel = new Map<string, { all: number[]; posts: number[] }>();
      for (const w of writes) {
        const id = workspace.resolveChannel(String(w.args.channel))?.id ?? String(w.args.channel);
        const entry = perChannel.get(id) ?? { all: [], posts: [] };
        entry.all.push(w.at);
        if (w.method === "chat.postMessage") entry.posts.push(w.at);
        perChannel.set(id, entry);
      }
      const worst = (windowMs: number, key: "all" | "posts") =>
        Math.max(...[...perChannel.values()].map((c) => maxInWindow(c[key], windowMs)));
      const lastWrite = Math.max(...writes.map((w) => w.at));
      const sorted = [...latencies].sort((a, b) => a - b);
      const ok = statuses.get(200) ?? 0;
      ctx.log(
        `alert-flood: ${db.incidents} incidents, ${db.counted} firings counted, ${replies.length} replies reporting ${reported + db.incidents} firings, drained after ${drainedSeconds.toFixed(1)} s`,
      );

      const rows: TargetRow[] = [
        {
          target: `${total.toLocaleString("en-US")} alerts across 100 fingerprints in one minute → 100 incidents`,
          measured: `${db.incidents} incidents; ${ok}/${rounds} webhook calls answered 200 in ${floodSeconds.toFixed(1)} s (p50 ${ms(percentile(sorted, 50))}, p99 ${ms(percentile(sorted, 99))})`,
          baseline: "—",
          met: db.incidents === 100 && ok === rounds && floodSeconds <= spanMs / 1000 + 5,
        },
        {
          target: "All thread replies delivered, nothing lost",
          measured: `${replies.length} of ${db.replies} replies in Slack threads; firings: ${db.counted} counted on cards, ${reported + db.incidents} reported in Slack (cards + replies), ${db.fired} on alerts, ${db.events} timeline rows; ${db.failed} failed writes; all delivered ${((lastWrite - started) / 1000).toFixed(1)} s after the first alert`,
          baseline: `${total} alerts sent`,
          met:
            replies.length === db.replies &&
            db.counted === total &&
            reported + db.incidents === total &&
            db.fired === total &&
            db.events === total &&
            db.failed === 0,
        },
        {
          target: "No channel written to more than 1 message/s sustained (Slack's per-channel limit)",
          measured: `busiest channel: ${worst(60_000, "all")} writes in any 60 s (${worst(60_000, "posts")} posts), ${worst(10_000, "all")} in any 10 s, ${worst(1_000, "all")} in any 1 s`,
          baseline: "limit: 60 per 60 s",
          met: worst(60_000, "all") <= 60,
        },
      ];
      return {
        id: "alert-flood",
        title: this.title,
        measuredAt,
        machine: "",
        rows,
        body: `${overrideNote()}${rounds} Alertmanager webhook calls (version 4, 100 firing alerts each: 10 models × 10 alert names, so 100 fingerprints), one every ${(spanMs / rounds).toFixed(0)} ms, POSTed to \`/api/v1/alertmanager\` of the bot running as its own process (HTTP mode, Postgres on the same machine) with the default notification policy (\`group_wait: 0s\`, \`group_interval: 1m\`, \`repeat_interval: 4h\`). Each model alerts into its own channel of a sandbox Slack server in the bench process, whose request log gives the timings. The first firing of a fingerprint opens an incident and posts its card; the first repeat is replied in the thread at once; later repeats are counted on the card (edits coalesce while a channel waits for its pace) and summarised in one reply per \`group_interval\`. The run ends when the outbox is empty and no firing is held back.\n\n| | value |\n|---|---|\n| webhook calls answered 200 | ${ok} of ${rounds} (${[...statuses.entries()].map(([s, n]) => `${n}× ${s}`).join(", ")}) |\n| webhook latency p50 / p99 / max | ${ms(percentile(sorted, 50))} / ${ms(percentile(sorted, 99))} / ${ms(sorted.at(-1) ?? Number.NaN)} |\n| incidents (cards) | ${db.incidents} (${cards.length} top-level messages) |\n| thread replies in Slack / reply rows sent | ${replies.length} / ${db.replies} |\n| Slack writes (posts and edits answered 200) | ${writes.length} |\n| flood sent in | ${floodSeconds.toFixed(1)} s |\n| outbox empty and nothing held after | ${drainedSeconds.toFixed(1)} s |\n| busiest channel, writes in any 60 s / 10 s / 1 s | ${worst(60_000, "all")} / ${worst(10_000, "all")} / ${worst(1_000, "all")} |\n`,
      };
    } finally {
      await sql.end({ timeout: 2 });
      await bot.stop();
    }
  },
};
