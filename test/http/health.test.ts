import { afterEach, describe, expect, it } from "vitest";
import { type Database, openPglite, openPostgres } from "../../src/db/index.js";
import { buildHttpApp, type HttpApp } from "../../src/http/app.js";
import { createMetrics } from "../../src/shared/metrics.js";
import { testLogger } from "../helpers/db.js";
import { freePort } from "../helpers/process.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => {});
});

async function serve(database: Database, started = true): Promise<{ app: HttpApp; url: string }> {
  const app = buildHttpApp({ logger: testLogger, database, metrics: createMetrics() });
  if (started) app.setStarted();
  await app.listen({ port: 0, host: "127.0.0.1" });
  cleanups.push(() => app.close());
  const addr = app.server.address();
  return { app, url: `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}` };
}

async function get(url: string) {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

describe("health, readiness and metrics", () => {
  it("is not ready until the migrations are applied, then ready", async () => {
    const database = await openPglite(null, testLogger);
    cleanups.push(() => database.close());
    const { url } = await serve(database);
    expect(await get(`${url}/healthz`)).toEqual({ status: 200, body: '{"status":"ok"}' });
    const before = await get(`${url}/readyz`);
    expect(before.status).toBe(503);
    expect(JSON.parse(before.body)).toMatchObject({ database: "migrations_pending" });
    await database.migrate();
    expect(await get(`${url}/readyz`)).toEqual({
      status: 200,
      body: '{"status":"ready","database":"pglite"}',
    });
  });

  it("answers 503 on /readyz (and still 200 on /healthz) when Postgres cannot be reached", async () => {
    const port = await freePort();
    const database = openPostgres(`postgres://postgres@127.0.0.1:${port}/nothing`, testLogger);
    cleanups.push(() => database.close());
    const { url } = await serve(database);
    const ready = await get(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ status: "unavailable", database: "unreachable" });
    expect((await get(`${url}/healthz`)).status).toBe(200);
  });

  it("is not ready until everything behind the server has started", async () => {
    const database = await openPglite(null, testLogger);
    cleanups.push(() => database.close());
    await database.migrate();
    const { app, url } = await serve(database, false);
    expect(await get(`${url}/readyz`)).toEqual({ status: 503, body: '{"status":"starting"}' });
    app.setStarted();
    expect((await get(`${url}/readyz`)).status).toBe(200);
  });

  it("answers 503 on /readyz once draining for shutdown", async () => {
    const database = await openPglite(null, testLogger);
    cleanups.push(() => database.close());
    await database.migrate();
    const { app, url } = await serve(database);
    expect((await get(`${url}/readyz`)).status).toBe(200);
    app.setDraining();
    expect(JSON.parse((await get(`${url}/readyz`)).body)).toEqual({ status: "draining" });
  });

  it("serves Prometheus metrics: process metrics and HTTP request timings by route", async () => {
    const database = await openPglite(null, testLogger);
    cleanups.push(() => database.close());
    const { url } = await serve(database);
    await get(`${url}/healthz`);
    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^mlops_process_resident_memory_bytes \d+/m);
    expect(text).toMatch(
      /mlops_http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} 1/,
    );
  });
});
