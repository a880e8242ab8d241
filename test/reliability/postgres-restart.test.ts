/**
 * Postgres restarted under load: readiness follows the database, the API answers 503 (never 500)
 * while it is away, and everything the bot acknowledged with a 2xx is in the database afterwards.
 * Runs against its own throwaway cluster (see pg-cluster.ts), never the machine's shared Postgres.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fraudRow, seeded } from "../helpers/monitoring.js";
import { type BotProcess, freePort, spawnBot, waitForStatus } from "../helpers/process.js";
import { clusterUnavailableReason, type PgCluster, startPgCluster } from "./pg-cluster.js";

const API_TOKEN = "mlops_pg_restart_token_0123456789abcdef01";
const SEED = Number(process.env.RELIABILITY_SEED ?? 20261126);
const unavailable = clusterUnavailableReason();
if (unavailable) console.warn(`skipping the Postgres restart test: ${unavailable}`);

let cluster: PgCluster | undefined;
let bot: BotProcess | undefined;
let base = "";

beforeAll(async () => {
  if (unavailable) return;
  cluster = await startPgCluster();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  bot = spawnBot({
    PORT: String(port),
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    DATABASE_URL: cluster.url,
    MLOPS_SANDBOX: "1", // the sandbox on a real database is meant here
    MLOPS_API_TOKEN: API_TOKEN,
  });
  await waitForStatus(`${base}/readyz`, 60_000);
}, 90_000);

afterAll(async () => {
  if (bot && bot.child.exitCode === null) {
    bot.child.kill("SIGTERM");
    await bot.exited;
  }
  await cluster?.destroy();
});

interface Sent {
  status: number;
  ids: string[];
  kind: "predictions" | "alert";
  fingerprint?: string;
  startedAt: number;
  endedAt: number;
}

describe.skipIf(unavailable)("Postgres restarted under load", () => {
  it("readyz goes 503 and back, the API answers 503 not 500 meanwhile, and nothing acknowledged is lost", async () => {
    console.log(`postgres-restart seed ${SEED}`);
    const rand = seeded(SEED);
    const sent: Sent[] = [];
    let seq = 0;
    let loading = true;
    const headers = { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" };

    async function postPredictions(): Promise<void> {
      const startedAt = Date.now();
      const ids = Array.from({ length: 25 }, () => `r${seq++}`);
      const rows = ids.map((id) => fraudRow(rand, id, new Date()));
      const res = await fetch(`${base}/api/v1/models/fraud-detector/predictions`, {
        method: "POST",
        headers,
        body: JSON.stringify(rows),
      }).catch(() => undefined);
      await res?.arrayBuffer();
      sent.push({ status: res?.status ?? 0, ids, kind: "predictions", startedAt, endedAt: Date.now() });
    }
    async function postAlert(): Promise<void> {
      const startedAt = Date.now();
      const n = seq++;
      const res = await fetch(`${base}/api/v1/alertmanager`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          version: "4",
          status: "firing",
          alerts: [
            {
              status: "firing",
              labels: { alertname: `Restart${n % 7}`, model: "fraud-detector", shard: String(n) },
              annotations: { summary: `alert ${n}` },
              startsAt: new Date().toISOString(),
              fingerprint: n.toString(16).padStart(8, "0"),
            },
          ],
        }),
      }).catch(() => undefined);
      await res?.arrayBuffer();
      const fingerprint = n.toString(16).padStart(8, "0");
      sent.push({
        status: res?.status ?? 0,
        ids: [],
        kind: "alert",
        fingerprint,
        startedAt,
        endedAt: Date.now(),
      });
    }
    // Four clients keep sending until told to stop.
    const clients = Array.from({ length: 4 }, async (_, c) => {
      while (loading) {
        if (c % 2 === 0) await postPredictions();
        else await postAlert();
        await new Promise((r) => setTimeout(r, 20));
      }
    });

    const readyz: number[] = [];
    const probe = async () => {
      const res = await fetch(`${base}/readyz`).catch(() => undefined);
      await res?.arrayBuffer();
      readyz.push(res?.status ?? 0);
      return res?.status ?? 0;
    };

    await new Promise((r) => setTimeout(r, 800));
    const beforeOutage = sent.length;
    await cluster?.stop();
    const outageStart = Date.now();
    // Readiness notices within a few probes.
    const noticed = Date.now();
    while ((await probe()) !== 503) {
      if (Date.now() - noticed > 10_000)
        throw new Error(`readyz never answered 503 while Postgres was down\n${bot?.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Keep the load on while the database is away.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await probe()).toBe(503);
    const outageEnd = Date.now();
    await cluster?.start();
    await waitForStatus(`${base}/readyz`, 30_000);
    readyz.push(200);
    await new Promise((r) => setTimeout(r, 1000));
    loading = false;
    await Promise.all(clients);

    const statuses = sent.map((s) => s.status);
    const slowest = Math.max(...sent.map((s) => s.endedAt - s.startedAt));
    const byStatus = Object.fromEntries(
      [...new Set(statuses)].map((s) => [s, statuses.filter((x) => x === s).length]),
    );
    console.log(
      `postgres-restart: ${sent.length} requests (${beforeOutage} before the outage of ${outageEnd - outageStart} ms), by status ${JSON.stringify(byStatus)}`,
    );
    // Never a 500 (or a dropped connection, or a crash): only 2xx, or 503 while the database was away,
    // and promptly: a request does not wait for the database to come back.
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(bot?.child.exitCode).toBeNull();
    expect(slowest).toBeLessThan(3000);
    const during = sent.filter((s) => s.startedAt >= outageStart && s.endedAt <= outageEnd);
    console.log(
      `postgres-restart: ${during.length} requests within the outage; slowest answer ${slowest} ms`,
    );
    expect(during.filter((s) => s.kind === "predictions" && s.status === 503).length).toBeGreaterThan(0);
    expect(during.filter((s) => s.kind === "alert" && s.status === 503).length).toBeGreaterThan(0);
    // And the API works again afterwards.
    expect(sent.slice(-4).some((s) => s.status === 200)).toBe(true);
    expect(readyz).toContain(503);
    expect(readyz.at(-1)).toBe(200);

    // Nothing acknowledged is lost.
    const sql = postgres(cluster?.url as string, { max: 1, onnotice: () => {} });
    try {
      const acked = sent.filter((s) => s.status === 200);
      const ackedIds = acked.flatMap((s) => s.ids);
      const stored = new Set(
        (await sql<{ request_id: string }[]>`select request_id from predictions`).map((r) => r.request_id),
      );
      expect(ackedIds.filter((id) => !stored.has(id))).toEqual([]);
      const ackedFingerprints = acked.filter((s) => s.kind === "alert").map((s) => s.fingerprint);
      const subjects = new Set(
        (await sql<{ subject: string }[]>`select subject from alerts`).map((r) => r.subject),
      );
      const missing = ackedFingerprints.filter((f) => !subjects.has(f as string));
      expect(missing).toEqual([]);
      expect(ackedIds.length).toBeGreaterThan(0);
    } finally {
      await sql.end();
    }
  }, 120_000);
});
