/**
 * Sustained ingest: 10,000 predictions/s (10 features, batches of 500) POSTed for 10 minutes into
 * the bot running as its own process on Postgres, with every monitor scheduled each minute.
 * Measured: each request's latency, the rollup lag (/metrics) and the bot's RSS, sampled every
 * 5 s, so growth across the run shows.
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { envNumber } from "./env.js";
import { NUMERIC } from "./ingest.js";
import {
  createBenchDatabase,
  freePort,
  percentile,
  pollUntil,
  readRss,
  sleep,
  spawnSandboxBot,
  tempDir,
} from "./support.js";
import type { Bench, Section, TargetRow } from "./types.js";

const BATCH = 500;
const TOKEN = "mlops_sustainedsustainedsustainedsustained";

function configYaml(): string {
  const every = `schedule: "* * * * *"`;
  return `workspace:
  alert_channel: "#alerts"
  user_groups: { l1: { handle: ops }, l2: { handle: ds }, team: { handle: team } }
models:
  - slug: bench
    name: Bench model
    task: binary_classification
    owners: team
    features:
${NUMERIC.map((n) => `      - { name: ${n}, type: numeric }`).join("\n")}
      - { name: channel, type: categorical }
      - { name: country, type: categorical }
    monitors:
      confidence: { ${every}, window: 10m, max_low_share: 0.9 }
      drift: { ${every}, window: 1h, method: auto }
      data_quality: { ${every}, window: 10m }
      performance: { ${every}, window: 1h, metric: f1, min_labels: 100 }
`;
}

function batchBody(batch: number, at: number): { body: string; ids: string[] } {
  const channels = ["pos", "web", "atm"];
  const countries = ["DE", "FR", "NL", "ES", "IT"];
  const ids: string[] = [];
  const rows = Array.from({ length: BATCH }, (_, i) => {
    const features: Record<string, number | string> = {};
    for (const n of NUMERIC) features[n] = Math.round(Math.random() * 1e6) / 100;
    features.channel = channels[i % 3] as string;
    features.country = countries[i % 5] as string;
    const p = Math.random();
    const id = `s${batch}-${i}`;
    ids.push(id);
    return {
      id,
      ts: new Date(at + i / 10).toISOString(),
      model_version: "v1",
      prediction: p > 0.5 ? 1 : 0,
      confidence: Math.round(Math.max(p, 1 - p) * 1e4) / 1e4,
      features,
    };
  });
  return { body: JSON.stringify(rows), ids };
}

const fms = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} ms`;

export const sustainedBench: Bench = {
  name: "sustained",
  title: "Sustained ingest with every monitor each minute",
  async run(ctx): Promise<Section> {
    const rate = envNumber("BENCH_SUSTAINED_RATE", 10_000, BATCH);
    const seconds = envNumber("BENCH_SUSTAINED_SECONDS", 600, 30);
    const measuredAt = new Date().toISOString();
    const loadBefore = loadavg()[0]?.toFixed(1) ?? "?";
    const db = await createBenchDatabase();
    const dir = tempDir("mlops-bench-sustained-");
    const configPath = join(dir.path, "mlops.config.yaml");
    writeFileSync(configPath, configYaml());
    const port = await freePort();
    const { proc, stop, url } = spawnSandboxBot({
      port,
      databaseUrl: db.url,
      dir: dir.path,
      configPath,
      token: TOKEN,
    });
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    const post = async (path: string, body: string): Promise<number> => {
      const t0 = performance.now();
      const res = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
        body,
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${path} answered ${res.status}: ${text.slice(0, 300)}`);
      return performance.now() - t0;
    };
    try {
      await pollUntil(`${url}/readyz`, (s) => s === 200, proc, { timeoutMs: 60_000 });
      const pid = proc.child.pid as number;
      const interval = (BATCH / rate) * 1000;
      const latencies: { at: number; ms: number }[] = [];
      const samples: { at: number; lag: number; rssMB: number }[] = [];
      let failures = 0;
      let inFlight = 0;
      let maxInFlight = 0;
      let sent = 0;
      let referenceSet = false;
      const start = performance.now();
      const wallStart = Date.now();
      const pending = new Set<Promise<void>>();
      let labelIds: string[] = [];
      const sampler = (async () => {
        while (performance.now() - start < seconds * 1000) {
          await sleep(5000);
          const text = await (await fetch(`${url}/metrics`)).text();
          const lag = Number(/^mlops_rollup_lag_seconds (\S+)/m.exec(text)?.[1] ?? Number.NaN);
          samples.push({ at: (performance.now() - start) / 1000, lag, rssMB: readRss(pid).rssMB });
          ctx.log(
            `sustained: ${Math.round((performance.now() - start) / 1000)} s, ${sent.toLocaleString("en-US")} sent, lag ${lag.toFixed(1)} s, RSS ${samples.at(-1)?.rssMB.toFixed(0)} MB, in flight ${inFlight}`,
          );
          if (!referenceSet && performance.now() - start > 60_000) {
            // The first minute's traffic as the drift reference, as a user would set it.
            referenceSet = true;
            await post(
              "/api/v1/models/bench/reference",
              JSON.stringify({
                from: new Date(wallStart).toISOString(),
                to: new Date(wallStart + 50_000).toISOString(),
              }),
            ).catch((err) => ctx.log(`sustained: reference: ${(err as Error).message}`));
          }
        }
      })();
      // Open loop: batch i leaves at start + i × interval whatever happened to the earlier ones,
      // so a slow answer shows as latency instead of lowering the offered rate.
      for (let i = 0; ; i++) {
        const due = start + i * interval;
        if (due - start >= seconds * 1000) break;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        const { body, ids } = batchBody(i, wallStart + i * interval);
        // One label in ten, a second later, so the performance monitor has labels to join.
        labelIds.push(...ids.filter((_, k) => k % 10 === 0));
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const p = post("/api/v1/models/bench/predictions", body)
          .then((ms) => {
            latencies.push({ at: (due - start) / 1000, ms });
          })
          .catch(() => {
            failures++;
          })
          .finally(() => {
            inFlight--;
            pending.delete(p);
          });
        pending.add(p);
        sent += BATCH;
        if (i % Math.round(1000 / interval) === 0 && labelIds.length > 0) {
          const labels = JSON.stringify(labelIds.map((id) => ({ id, label: Math.random() > 0.5 ? 1 : 0 })));
          labelIds = [];
          const q = post("/api/v1/models/bench/labels", labels)
            .then(() => {})
            .catch(() => {
              failures++;
            })
            .finally(() => pending.delete(q));
          pending.add(q);
        }
      }
      await Promise.all(pending);
      const elapsed = (performance.now() - start) / 1000;
      await sampler;
      // How long the rollups take to catch up once traffic stops.
      const drained0 = performance.now();
      let drainedAfter = Number.NaN;
      while (performance.now() - drained0 < 120_000) {
        const [r] = await sql<{ n: number }[]>`select count(*)::int as n from rollup_deltas`;
        if ((r?.n ?? 1) === 0) {
          drainedAfter = (performance.now() - drained0) / 1000;
          break;
        }
        await sleep(250);
      }
      const [stored] = await sql<{ n: number }[]>`select count(*)::int as n from predictions`;
      const runs = await sql<{ monitor: string; n: number; errors: number; p50: number; max: number }[]>`
        select monitor, count(*)::int as n, count(*) filter (where status = 'error')::int as errors,
          percentile_cont(0.5) within group (order by duration_ms)::float8 as p50,
          max(duration_ms)::float8 as max
        from monitor_runs group by monitor order by monitor`;

      const sorted = latencies.map((l) => l.ms).sort((a, b) => a - b);
      const p99 = percentile(sorted, 99);
      const p50 = percentile(sorted, 50);
      const third = (k: number) =>
        samples.filter((s) => s.at > (seconds * k) / 3 && s.at <= (seconds * (k + 1)) / 3);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      const lagFirst = mean(third(0).map((s) => s.lag));
      const lagLast = mean(third(2).map((s) => s.lag));
      const rssFirst = mean(third(0).map((s) => s.rssMB));
      const rssLast = mean(third(2).map((s) => s.rssMB));
      const maxLag = Math.max(...samples.map((s) => s.lag));
      const achieved = (stored?.n ?? 0) / elapsed;
      const rows: TargetRow[] = [
        {
          target: `Sustained ingest of ${rate.toLocaleString("en-US")} predictions/s for ${seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`}: ingest p99 ≤ 100 ms`,
          measured: `p99 ${fms(p99)} (p50 ${fms(p50)}; ${failures} failed requests; ${Math.round(achieved).toLocaleString("en-US")} rows/s stored)`,
          baseline: `load average ${loadBefore} at the start`,
          met: p99 <= 100 && failures === 0 && achieved >= rate * 0.98,
          missed:
            "every batch was stored on time and the median is well inside the target, but the slowest 1% is not: on 2 cores the load generator (building and sending 20 batches a second), the bot (validating each batch and summarising it into its rollup deltas in the same transaction), Postgres (the partitioned insert, its primary key, the deltas) and the folder and monitors all share the CPU, and the tail comes from the moments they coincide (see the per-minute table). What would fix it: the load generator on its own machine first, then a cheaper delta per batch (the denser sketch encoding that would also speed up reads), and folding in a worker thread so it never competes with a request.",
        },
        {
          target: "Rollup lag ≤ 5 s throughout",
          measured: `max ${maxLag.toFixed(1)} s (mean ${lagFirst.toFixed(1)} s in the first third, ${lagLast.toFixed(1)} s in the last); caught up ${Number.isNaN(drainedAfter) ? "not within 120 s" : `${drainedAfter.toFixed(1)} s`} after the traffic stopped`,
          baseline: "—",
          met: maxLag <= 5,
        },
        {
          target: "No growth in lag or RSS across the run",
          measured: `RSS ${rssFirst.toFixed(0)} MB in the first third, ${rssLast.toFixed(0)} MB in the last; lag ${lagFirst.toFixed(1)} → ${lagLast.toFixed(1)} s`,
          baseline: "—",
          met: rssLast <= rssFirst * 1.2 + 20 && lagLast <= Math.max(2 * lagFirst, lagFirst + 2),
        },
      ];
      const perMinute: string[] = [];
      for (let m = 0; m * 60 < seconds; m++) {
        const l = latencies
          .filter((x) => x.at >= m * 60 && x.at < (m + 1) * 60)
          .map((x) => x.ms)
          .sort((a, b) => a - b);
        const s = samples.filter((x) => x.at > m * 60 && x.at <= (m + 1) * 60);
        perMinute.push(
          `| ${m + 1} | ${l.length ? fms(percentile(l, 50)) : "—"} | ${l.length ? fms(percentile(l, 99)) : "—"} | ${s.length ? Math.max(...s.map((x) => x.lag)).toFixed(1) : "—"} s | ${s.length ? Math.max(...s.map((x) => x.rssMB)).toFixed(0) : "—"} MB |`,
        );
      }
      return {
        id: "sustained",
        title: this.title,
        measuredAt,
        machine: "",
        rows,
        body: `The bot ran as its own process on Postgres with one model of 8 numeric and 2 categorical features whose confidence, drift, data-quality and performance monitors were all scheduled every minute (the drift reference: the first 50 s of traffic, set after a minute). The load generator, in the bench process on the same 2 cores, sent a batch of ${BATCH} predictions every ${interval.toFixed(0)} ms (open loop: a batch left on time whatever happened to the earlier ones; at most ${maxInFlight} were in flight) and one label request a second for a tenth of the rows, for ${seconds} s. Latency is each predictions request's, client side. Lag (the age of the oldest delta not yet folded into the rollups, from /metrics) and RSS were sampled every 5 s.\n\n| minute | ingest p50 | ingest p99 | max lag | max RSS |\n|---|---|---|---|---|\n${perMinute.join("\n")}\n\nMonitor runs during the bench:\n\n| monitor | runs | errors | p50 | max |\n|---|---|---|---|---|\n${runs.map((r) => `| ${r.monitor} | ${r.n} | ${r.errors} | ${fms(r.p50)} | ${fms(r.max)} |`).join("\n")}\n`,
      };
    } finally {
      await sql.end({ timeout: 2 });
      await stop();
      await db.drop();
      await dir.remove();
    }
  },
};
