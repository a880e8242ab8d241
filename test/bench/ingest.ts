/**
 * Ingest rate: predictions with 10 features POSTed over HTTP into the bot (a separate process on
 * Postgres), beside the raw postgres.js insert of the same rows into the same table, measured in
 * the same run with the same concurrency. Issue 3's target: >= 50,000 predictions/s and >= 60% of
 * the raw rate.
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { envNumber } from "./env.js";
import {
  createBenchDatabase,
  formatRate,
  freePort,
  median,
  overrideNote,
  pollUntil,
  pool,
  spawnBotProcess,
  tempDir,
  track,
} from "./support.js";
import type { Bench, Section, TargetRow } from "./types.js";

const TARGET_RATE = 50_000;
const TARGET_SHARE = 0.6;
const BATCH = 10_000;
export const NUMERIC = ["amount", "age", "txn", "distance", "hour", "score_a", "score_b", "balance"];
const TOKEN = "mlops_benchbenchbenchbenchbenchbenchbenchbench";

/** A config with one model `bench` of 8 numeric and 2 categorical features, no monitors. */
export function benchConfigYaml(): string {
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
`;
}

function makeRows(batch: number) {
  const channels = ["pos", "web", "atm"];
  const countries = ["DE", "FR", "NL", "ES", "IT"];
  const base = Date.now() - 3_600_000;
  return Array.from({ length: BATCH }, (_, i) => {
    const features: Record<string, number | string> = {};
    for (const n of NUMERIC) features[n] = Math.round(Math.random() * 1e6) / 100;
    features.channel = channels[i % 3] as string;
    features.country = countries[i % 5] as string;
    const p = Math.random();
    return {
      id: `b${batch}-${i}`,
      ts: new Date(base + batch * BATCH + i).toISOString(),
      model_version: "v1",
      prediction: p > 0.5 ? 1 : 0,
      confidence: Math.round(Math.max(p, 1 - p) * 1e4) / 1e4,
      features,
    };
  });
}

const fmt = formatRate;

export const ingestBench: Bench = {
  name: "ingest",
  title: "Ingest rate (HTTP → Postgres)",
  async run(ctx): Promise<Section> {
    const total = envNumber("BENCH_INGEST_ROWS", 300_000, BATCH);
    const concurrency = envNumber("BENCH_INGEST_CONCURRENCY", 4);
    const roundsWanted = envNumber("BENCH_INGEST_ROUNDS", 3);
    const batches = Math.ceil(total / BATCH);
    const measuredAt = new Date().toISOString();
    const loadBefore = loadavg()[0]?.toFixed(1) ?? "?";
    const db = await createBenchDatabase();
    const dir = tempDir("mlops-bench-ingest-");
    const configPath = join(dir.path, "mlops.config.yaml");
    writeFileSync(configPath, benchConfigYaml());
    const port = await freePort();
    const proc = spawnBotProcess({
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: db.url,
      MLOPS_SANDBOX: "1", // the sandbox on a real database is meant here
      MLOPS_CONFIG: configPath,
      // The bench's own models: the demo runbooks name the demo model, so none are loaded.
      MLOPS_RUNBOOKS_DIR: join(dir.path, "runbooks"),
      MLOPS_API_TOKEN: TOKEN,
      LOG_LEVEL: "warn",
    });
    const stop = track(proc);
    const url = `http://127.0.0.1:${port}`;
    const sql = postgres(db.url, { max: concurrency, onnotice: () => {} });
    try {
      await pollUntil(`${url}/readyz`, (s) => s === 200, proc, { timeoutMs: 60_000 });
      ctx.log(`ingest: building ${batches} batches of ${BATCH} rows`);
      const rows = Array.from({ length: batches + 2 }, (_, b) => makeRows(b));
      const bodies = rows.map((r) => JSON.stringify(r));
      const send = async (body: string) => {
        const res = await fetch(`${url}/api/v1/models/bench/predictions`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
          body,
        });
        const answer = (await res.json()) as { stored?: number };
        if (res.status !== 200 || answer.stored !== BATCH)
          throw new Error(`ingest answered ${res.status} ${JSON.stringify(answer)}`);
      };
      for (const b of bodies.slice(0, 2)) await send(b); // warm-up

      // The same rows in the same table, inserted by postgres.js itself (its multi-row insert
      // helper, 5,000 rows a statement to stay under 65,535 parameters), same concurrency.
      const [{ id: modelId } = { id: 0 }] = await sql<
        { id: number }[]
      >`select id from models where slug = 'bench'`;
      const stored = rows.slice(2).flatMap((batch) =>
        batch.map((r) => ({
          model_id: modelId,
          request_id: r.id,
          ts: new Date(r.ts),
          model_version: r.model_version,
          prediction: String(r.prediction),
          confidence: r.confidence,
          num: NUMERIC.map((n) => r.features[n] as number),
          cat: [r.features.channel as string, r.features.country as string],
        })),
      );
      const chunks: (typeof stored)[] = [];
      for (let i = 0; i < stored.length; i += 5000) chunks.push(stored.slice(i, i + 5000));

      // Rounds alternate the two paths on an emptied table, so a noisy neighbour hurts both alike;
      // the medians are reported.
      const rounds: { http: number; raw: number }[] = [];
      for (let round = 0; round < roundsWanted; round++) {
        await sql`truncate predictions`;
        ctx.log(`ingest: round ${round + 1}: HTTP, ${total} rows, ${concurrency} concurrent requests`);
        const httpSeconds = await pool(bodies.slice(2), concurrency, send);
        await sql`truncate predictions`;
        ctx.log(`ingest: round ${round + 1}: raw postgres.js insert of the same rows`);
        const rawSeconds = await pool(chunks, concurrency, async (chunk) => {
          await sql`insert into predictions ${sql(chunk, "model_id", "request_id", "ts", "model_version", "prediction", "confidence", "num", "cat")}`;
        });
        const [{ n } = { n: 0 }] = await sql<{ n: number }[]>`select count(*)::int as n from predictions`;
        if (n !== stored.length) throw new Error(`raw insert stored ${n} of ${stored.length}`);
        rounds.push({ http: (batches * BATCH) / httpSeconds, raw: stored.length / rawSeconds });
        ctx.log(
          `ingest: round ${round + 1}: HTTP ${fmt(rounds.at(-1)?.http ?? 0)}, raw ${fmt(rounds.at(-1)?.raw ?? 0)}`,
        );
      }
      const httpRate = median(rounds.map((r) => r.http));
      const rawRate = median(rounds.map((r) => r.raw));

      const share = httpRate / rawRate;
      const targetRows: TargetRow[] = [
        {
          target: "Ingest through HTTP into Postgres, 10 features: >= 50,000 predictions/s",
          measured: fmt(httpRate),
          baseline: `raw postgres.js insert ${fmt(rawRate)}`,
          met: httpRate >= TARGET_RATE,
        },
        {
          target: "Ingest rate >= 60% of the raw postgres.js insert of the same rows",
          measured: `${Math.round(share * 100)}%`,
          baseline: "100% (raw insert)",
          met: share >= TARGET_SHARE,
        },
      ];
      return {
        id: "ingest",
        title: this.title,
        measuredAt,
        machine: "",
        rows: targetRows,
        body: `${overrideNote()}${total.toLocaleString("en-US")} predictions (8 numeric and 2 categorical features) in batches of ${BATCH.toLocaleString("en-US")}, ${concurrency} requests in flight, POSTed to \`/api/v1/models/bench/predictions\` of the bot running as its own process on Postgres (bearer token, validation of every row, one \`json_to_recordset\` insert per batch with \`on conflict do nothing\`). The bodies were serialised before the clock started; the client, the bot and Postgres share the machine's cores. In each round the table was emptied, the batches POSTed, the table emptied again and the same rows inserted with postgres.js's own multi-row insert (\`insert into predictions \${sql(rows)}\`, 5,000 rows a statement, ${concurrency} connections) — the limit. Both write into the same table with its primary key and (model_id, ts) index. The machine's 1-minute load average was ${loadBefore} when the bench started (other work shares the two cores).\n\n| round | HTTP → bot → Postgres | raw postgres.js insert | HTTP / raw |\n|---|---|---|---|\n${rounds.map((r, i) => `| ${i + 1} | ${fmt(r.http)} | ${fmt(r.raw)} | ${Math.round((r.http / r.raw) * 100)}% |`).join("\n")}\n| median | ${fmt(httpRate)} | ${fmt(rawRate)} | ${Math.round((httpRate / rawRate) * 100)}% |\n`,
      };
    } finally {
      await sql.end({ timeout: 2 });
      await stop();
      await db.drop();
      await dir.remove();
    }
  },
};
