/**
 * Issue target: 10,000 alerts across 100 fingerprints that group into 10 incidents give 10 cards,
 * and every thread reply is delivered within Slack's per-channel rate. Alertmanager alerts are not
 * regrouped by the bot (Alertmanager groups them itself), so this bench feeds the bot's own monitor
 * findings through the alert intake, grouped by the default `alerting.group_by: [model, monitor]`.
 * The bot (every shipped feature, as `npm start` wires them) runs in this process with its built-in
 * sandbox as Slack, on a fresh Postgres database; the sandbox's workspace and request log are the
 * evidence.
 */
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { parse as parseYaml } from "yaml";
import { startBot } from "../../src/bot.js";
import { configSchema, parseEnv } from "../../src/config/index.js";
import { openPostgres } from "../../src/db/index.js";
import { createFeatures } from "../../src/features.js";
import type { AlertSignal } from "../../src/shared/alert-signal.js";
import { createLogger } from "../../src/shared/logger.js";
import type { IncidentsFeature } from "../../src/wiring/incidents-feature.js";
import { maxInWindow, waitDrained } from "./alert-support.js";
import { envNumber } from "./env.js";
import { createBenchDatabase, ms, onCleanup, percentile, sleep, tempDir } from "./support.js";
import type { Bench, Section, TargetRow } from "./types.js";

const MODELS = 10;
const SUBJECTS = 10;
/** The first monitor run of each model finds this many of its features drifting; the rest join on the next. */
const FIRST_RUN_SUBJECTS = 5;
const MONITOR = "drift";

const modelSlug = (m: number) => `grp-${m}`;
const channelOf = (m: number) => `grp-${m}-alerts`;
const subjectOf = (k: number) => `feature_${k}`;

function configYaml(): string {
  const features = Array.from(
    { length: SUBJECTS },
    (_, k) => `      - { name: ${subjectOf(k)}, type: numeric }\n`,
  );
  const models = Array.from(
    { length: MODELS },
    (_, m) => `  - slug: ${modelSlug(m)}
    name: Grouping model ${m}
    task: binary_classification
    owners: team
    alert_channel: "#${channelOf(m)}"
    features:
${features.join("")}`,
  ).join("");
  // Default alerting: group_by [model, monitor], group_wait 0s, group_interval 1m.
  return `workspace:
  alert_channel: "#alerts"
  user_groups: { l1: { handle: ops }, l2: { handle: ds }, team: { handle: team } }
models:
${models}`;
}

/** A drift finding as the drift monitor emits it (cf. test/helpers/signals.ts `driftFinding`). */
function driftFinding(model: string, subject: string, runId: number, round: number): AlertSignal {
  const psi = 0.3 + ((round % 10) + 1) / 100;
  return {
    source: "monitor",
    model,
    modelVersion: "v1",
    monitor: MONITOR,
    subject,
    status: "firing",
    severity: "warning",
    title: `Drift in ${subject}: PSI ${psi.toFixed(2)}`,
    summary: `The distribution of \`${subject}\` moved away from the reference window.`,
    metrics: { psi, threshold: 0.2 },
    rule: "PSI >= 0.2 (fixed threshold)",
    observedAt: new Date(),
    monitorRunId: runId,
  };
}

/**
 * The monitor runs of one model: the first round is split in two runs (5 features, then the other
 * 5, which join the incident), every later round finds all 10 features drifting.
 */
function runsOf(rounds: number): number[][] {
  const all = Array.from({ length: SUBJECTS }, (_, k) => k);
  return [
    all.slice(0, FIRST_RUN_SUBJECTS),
    all.slice(FIRST_RUN_SUBJECTS),
    ...Array.from({ length: rounds - 1 }, () => all),
  ];
}

export const alertGroupingBench: Bench = {
  name: "alert-grouping",
  title: "10,000 grouped findings → 10 incidents",
  async run(ctx): Promise<Section> {
    const rounds = envNumber("BENCH_GROUPING_ROUNDS", 100, 2);
    const spanMs = envNumber("BENCH_GROUPING_SPAN_MS", 60_000);
    const runs = runsOf(rounds);
    const total = runs.reduce((n, r) => n + r.length, 0) * MODELS;
    const measuredAt = new Date().toISOString();
    const loadBefore = loadavg()[0] ?? Number.NaN;

    const yaml = configYaml();
    const config = configSchema.parse(parseYaml(yaml));
    const created = await createBenchDatabase();
    const logger = createLogger(process.env.BENCH_LOG_LEVEL ?? "warn");
    const database = openPostgres(created.url, logger, { max: 10 });
    const dir = tempDir("mlops-bench-grouping-");
    let incidents: IncidentsFeature | undefined;
    const bot = await startBot({
      env: parseEnv({
        PORT: "0",
        HOST: "127.0.0.1",
        LOG_LEVEL: "warn",
        // The bench's own models: the demo runbooks name the demo model, so none are loaded.
        MLOPS_RUNBOOKS_DIR: join(dir.path, "runbooks"),
      }),
      config,
      logger,
      database,
      // Every shipped feature, as `npm start` runs them; the incidents one is kept for its intake.
      features: (fctx) => {
        const features = createFeatures(fctx);
        incidents = features.find((f) => f.name === "incidents") as IncidentsFeature | undefined;
        return features;
      },
    });
    const stopBot = onCleanup(() => bot.close());
    const sql = postgres(created.url, { max: 1, onnotice: () => {} });
    try {
      if (!bot.sandbox) throw new Error("expected the built-in sandbox (no Slack credentials)");
      if (!incidents) throw new Error("no incidents feature");
      const { intake } = incidents;
      const { workspace } = bot.sandbox;
      const channels = Array.from({ length: MODELS }, (_, m) => {
        const ch = workspace.resolveChannel(channelOf(m));
        if (!ch) throw new Error(`the sandbox has no #${channelOf(m)}`);
        return ch.id;
      });

      ctx.log(
        `alert-grouping: ${total} findings (${MODELS} models × ${SUBJECTS} features) in ${runs.length} monitor runs per model over ${spanMs / 1000} s`,
      );
      const loads: number[] = [loadBefore];
      const sampler = setInterval(() => loads.push(loadavg()[0] ?? Number.NaN), 5_000);
      const cpuBefore = process.cpuUsage();
      const started = Date.now();
      const latencies: number[] = [];
      const calls: Promise<void>[] = [];
      let runId = 0;
      try {
        for (const [r, subjects] of runs.entries()) {
          const due = started + (r * spanMs) / runs.length;
          if (due > Date.now()) await sleep(due - Date.now());
          for (let m = 0; m < MODELS; m++) {
            const id = ++runId;
            const model = modelSlug(m);
            const signals = subjects.map((k) => driftFinding(model, subjectOf(k), id, r));
            const t0 = performance.now();
            calls.push(
              intake.process(signals, [], { model, monitor: MONITOR, runId: id }).then(() => {
                latencies.push(performance.now() - t0);
              }),
            );
          }
        }
        await Promise.all(calls);
        const fedSeconds = (Date.now() - started) / 1000;
        const cpuFed = process.cpuUsage(cpuBefore);
        const cpuFedShare = (cpuFed.user + cpuFed.system) / 1000 / (fedSeconds * 1000);
        ctx.log(`alert-grouping: all findings handled after ${fedSeconds.toFixed(1)} s; waiting for Slack`);

        // Drained: nothing left in the outbox and no firings held back by group_interval.
        await waitDrained(sql, 250);
        const drainedSeconds = (Date.now() - started) / 1000;
        const cpu = process.cpuUsage(cpuBefore);
        clearInterval(sampler);
        loads.push(loadavg()[0] ?? Number.NaN);
        const cpuShare = (cpu.user + cpu.system) / 1000 / (drainedSeconds * 1000);

        const [db] = await sql<
          {
            incidents: number;
            counted: number;
            fingerprints: number;
            members: number;
            fired: number;
            undelivered: number;
            replyRows: number;
          }[]
        >`select (select count(*)::int from incidents) as incidents,
                 (select coalesce(sum(alert_count), 0)::int from incidents) as counted,
                 (select count(*)::int from alerts) as fingerprints,
                 (select count(*)::int from incident_members) as members,
                 (select coalesce(sum(fire_count), 0)::int from alerts) as fired,
                 (select count(*)::int from outbox where state in ('failed', 'dead')) as undelivered,
                 (select count(*)::int from outbox where method = 'chat.postMessage' and parent_id is not null and state = 'sent') as "replyRows"`;
        if (!db) throw new Error("no counts");
        // The bot's own pacing, by the database's claim times (what it enforces: 3 writes per 3 s per
        // channel); the sandbox's arrival times add the varying claim-to-request latency.
        const claims = await sql<{ channel: string; at: Date }[]>`
          select channel, claimed_at as at from outbox
          where paced and state = 'sent' and method in ('chat.postMessage', 'chat.update')
          order by claimed_at`;
        const claimsPer = new Map<string, number[]>();
        for (const c of claims)
          claimsPer.set(c.channel, [...(claimsPer.get(c.channel) ?? []), c.at.getTime()]);
        const worstClaims = (windowMs: number) =>
          Math.max(0, ...[...claimsPer.values()].map((t) => maxInWindow(t, windowMs)));
        const perIncident = await sql<{ channel: string; alert_count: number }[]>`
          select channel, alert_count from incidents order by id`;

        // What Slack got: cards (top-level messages) and thread replies per channel.
        const all = workspace.allMessages();
        const isReply = (m: (typeof all)[number]) => Boolean(m.thread_ts && m.thread_ts !== m.ts);
        const cardsPer = channels.map((c) => all.filter((m) => m.channel === c && !isReply(m)).length);
        const cards = cardsPer.reduce((a, b) => a + b, 0);
        const strayTopLevel = all.filter((m) => !channels.includes(m.channel) && !isReply(m)).length;
        const replies = all.filter(isReply);
        const joinReplies = replies.filter((m) => m.text.includes("Joined this incident")).length;
        const firedAgain = replies.flatMap((m) => {
          const match = /Fired again(?: \((\d+) times since the last note\))?/.exec(m.text);
          return match ? [Number(match[1] ?? 1)] : [];
        });
        const firedAgainSum = firedAgain.reduce((a, b) => a + b, 0);
        const otherReplies = replies.length - joinReplies - firedAgain.length;
        // Every run is one firing of its group: the card says the first, the joiners' run says the
        // second (one per group here), and the "fired again" replies say the rest.
        const threadsWithJoins = new Set(
          replies
            .filter((m) => m.text.includes("Joined this incident"))
            .map((m) => `${m.channel}:${m.thread_ts}`),
        ).size;
        const reportedFirings = cards + threadsWithJoins + firedAgainSum;

        const writes = workspace
          .requests()
          .filter((r) => (r.method === "chat.postMessage" || r.method === "chat.update") && r.status === 200);
        const perChannel = new Map<string, number[]>();
        for (const w of writes) {
          const id = workspace.resolveChannel(String(w.args.channel))?.id ?? String(w.args.channel);
          perChannel.set(id, [...(perChannel.get(id) ?? []), w.at]);
        }
        const worst = (windowMs: number) =>
          Math.max(0, ...[...perChannel.values()].map((t) => maxInWindow(t, windowMs)));
        const replyWrites = writes.filter((w) => w.method === "chat.postMessage" && w.args.thread_ts);
        const lastReply = Math.max(...replyWrites.map((w) => w.at));
        const lastWrite = Math.max(...writes.map((w) => w.at));
        const sorted = [...latencies].sort((a, b) => a - b);
        const loadPeak = Math.max(...loads.filter(Number.isFinite));
        const loadLine = `load average (1 min) ${loadBefore.toFixed(1)} before, peak ${loadPeak.toFixed(1)} while running, on ${cpus().length} CPUs; the bench process (bot + sandbox + feeder) used ${(cpuFedShare * 100).toFixed(0)} % of one CPU while findings came in, ${(cpuShare * 100).toFixed(0)} % until drained`;
        const expectedPerIncident = runs.length;
        ctx.log(
          `alert-grouping: ${db.incidents} incidents, ${cards} cards, ${replies.length} replies (${joinReplies} joins, ${firedAgain.length} fired-again), busiest channel ${worst(1_000)} writes in 1 s / ${worst(60_000)} in 60 s, drained after ${drainedSeconds.toFixed(1)} s; ${loadLine}`,
        );

        const rows: TargetRow[] = [
          {
            target: `${total.toLocaleString("en-US")} findings across ${MODELS * SUBJECTS} fingerprints grouped by [model, monitor] → ${MODELS} incidents, ${MODELS} cards`,
            measured: `${db.incidents} incidents, ${cards} cards (${cardsPer.every((n) => n === 1) ? "one in each" : cardsPer.join("/")} of ${MODELS} channels${strayTopLevel ? `, ${strayTopLevel} top-level messages elsewhere` : ""}); ${db.fingerprints} fingerprints, ${db.members} members; ${runs.length * MODELS} monitor runs handed over in ${fedSeconds.toFixed(1)} s (p50 ${ms(percentile(sorted, 50))}, p99 ${ms(percentile(sorted, 99))} per run)`,
            baseline: "—",
            met:
              db.incidents === MODELS &&
              cards === MODELS &&
              cardsPer.every((n) => n === 1) &&
              db.fingerprints === MODELS * SUBJECTS &&
              db.members === MODELS * SUBJECTS &&
              fedSeconds <= spanMs / 1000 + 5,
          },
          {
            target: "Every thread reply delivered, nothing lost",
            measured: `${replies.length} of ${db.replyRows} replies in Slack threads (${joinReplies} "joined", ${firedAgain.length} "fired again", ${otherReplies} other); group firings: ${db.counted} counted on cards, ${reportedFirings} reported in Slack; ${db.fired} findings recorded on alerts; ${db.undelivered} failed or dead writes; last reply delivered ${((lastReply - started) / 1000).toFixed(1)} s after the first finding`,
            baseline: `${total} findings sent, ${runs.length * MODELS} monitor runs`,
            met:
              replies.length === db.replyRows &&
              db.undelivered === 0 &&
              db.fired === total &&
              db.counted === expectedPerIncident * MODELS &&
              perIncident.every((i) => i.alert_count === expectedPerIncident) &&
              reportedFirings === db.counted &&
              joinReplies === MODELS * (SUBJECTS - FIRST_RUN_SUBJECTS),
          },
          {
            target: "No channel written to more than 1 message/s sustained (Slack's per-channel limit)",
            measured: `busiest channel: ${worst(60_000)} writes in any 60 s, ${worst(10_000)} in any 10 s, ${worst(3_000)} in any 3 s, ${worst(1_000)} in any 1 s (as claimed by the bot: ${worstClaims(60_000)} in 60 s, ${worstClaims(3_000)} in 3 s)`,
            baseline: "limit: 60 per 60 s (short bursts allowed)",
            met: worst(60_000) <= 60,
          },
          {
            target: "Machine load while it ran",
            measured: loadLine,
            baseline: "—",
            met: null,
          },
        ];
        const channelRows = channels
          .map((c, m) => {
            const times = perChannel.get(c) ?? [];
            const inChannel = replies.filter((x) => x.channel === c).length;
            return `| #${channelOf(m)} | ${cardsPer[m]} | ${inChannel} | ${times.length} | ${maxInWindow(times, 1_000)} | ${maxInWindow(times, 60_000)} |`;
          })
          .join("\n");
        return {
          id: "alert-grouping",
          title: this.title,
          measuredAt,
          machine: "",
          rows,
          body: `${MODELS} models × one monitor (\`${MONITOR}\`) × ${SUBJECTS} features = ${MODELS * SUBJECTS} fingerprints, grouped by the default \`alerting.group_by: [model, monitor]\` into ${MODELS} groups (\`group_wait: 0s\`, \`group_interval: 1m\`). ${rounds} rounds, one every ${(spanMs / runs.length).toFixed(0)} ms, each handing over one drift run per model (\`intake.process(signals, [], { model, monitor, runId })\`, as the monitoring service's sink does) with a warning finding per drifting feature; the first round is split in two runs (${FIRST_RUN_SUBJECTS} features, then the other ${SUBJECTS - FIRST_RUN_SUBJECTS}, which join the open incident with a thread reply each), so ${runs.length} runs per model and ${total.toLocaleString("en-US")} findings in all. The bot runs in the bench process with every shipped feature and its built-in sandbox as Slack (each model alerts into its own channel), on a fresh Postgres database on the same machine; the sandbox's messages and request log are the evidence. A run counts once as its group's firing: repeats are held by \`group_interval\` and said in one "fired again (N times)" reply. The run ends when the outbox is empty and no firing is held back.\n\n| | value |\n|---|---|\n| incidents / cards / fingerprints / members | ${db.incidents} / ${cards} / ${db.fingerprints} / ${db.members} |\n| thread replies in Slack / reply rows sent | ${replies.length} / ${db.replyRows} |\n| "joined" / "fired again" / other replies | ${joinReplies} / ${firedAgain.length} (reporting ${firedAgainSum} firings) / ${otherReplies} |\n| group firings counted per incident | ${[...new Set(perIncident.map((i) => i.alert_count))].join(", ")} (expected ${expectedPerIncident}) |\n| Slack writes (posts and edits answered 200) | ${writes.length} |\n| monitor run hand-over p50 / p99 / max | ${ms(percentile(sorted, 50))} / ${ms(percentile(sorted, 99))} / ${ms(sorted.at(-1) ?? Number.NaN)} |\n| findings handed over in | ${fedSeconds.toFixed(1)} s |\n| last reply / last write delivered after | ${((lastReply - started) / 1000).toFixed(1)} s / ${((lastWrite - started) / 1000).toFixed(1)} s |\n| outbox empty and nothing held after | ${drainedSeconds.toFixed(1)} s |\n| busiest channel, writes in any 60 s / 10 s / 3 s / 1 s | ${worst(60_000)} / ${worst(10_000)} / ${worst(3_000)} / ${worst(1_000)} (arrival at the sandbox); ${worstClaims(60_000)} / ${worstClaims(10_000)} / ${worstClaims(3_000)} / ${worstClaims(1_000)} (the bot's claim times, which its 3-per-3-s pacing governs) |\n| machine | ${loadLine} |\n\nPer channel:\n\n| channel | cards | replies | writes | max in 1 s | max in 60 s |\n|---|---|---|---|---|---|\n${channelRows}\n`,
        };
      } finally {
        clearInterval(sampler);
      }
    } finally {
      await sql.end({ timeout: 2 });
      await stopBot();
      await created.drop();
      await dir.remove();
    }
  },
};
