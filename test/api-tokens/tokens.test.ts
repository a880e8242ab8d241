import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiTokenService, createApiTokenService, hashToken } from "../../src/api-tokens/index.js";
import { type Database, MIGRATIONS_FOLDER, openPglite, openPostgres } from "../../src/db/index.js";
import { bearerAuth } from "../../src/http/bearer-auth.js";
import { systemClock } from "../../src/shared/clock.js";
import {
  createEmptyPostgresDatabase,
  openTestDatabase,
  TEST_DATABASE_URL,
  testLogger,
} from "../helpers/db.js";
import { ROOT } from "../helpers/process.js";

let database: Database;
let tokens: ApiTokenService;
const app = Fastify();
let url: string;

beforeAll(async () => {
  database = await openTestDatabase();
  tokens = createApiTokenService(database.db, systemClock, "bootstrap-secret-value");
  app.get("/private", { preHandler: bearerAuth(tokens) }, async (req) => ({
    caller: req.apiCaller?.tokenName,
  }));
  url = await app.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(async () => {
  await app.close();
  await database.close();
});

async function call(authorization?: string) {
  const res = await fetch(`${url}/private`, { headers: authorization ? { authorization } : {} });
  return {
    status: res.status,
    body: (await res.json()) as { error?: string; caller?: string },
    challenge: res.headers.get("www-authenticate"),
  };
}

describe("API bearer tokens", () => {
  it("a created token is accepted, stored only as its hash, and refused once revoked", async () => {
    const token = await tokens.create("fraud-pipeline");
    expect(token).toMatch(/^mlops_[0-9a-f]{40}$/);
    expect(await call(`Bearer ${token}`)).toMatchObject({ status: 200, body: { caller: "fraud-pipeline" } });

    const stored = JSON.stringify(await database.db.execute("select * from api_tokens"));
    expect(stored).not.toContain(token);
    expect(stored).toContain(hashToken(token));

    await tokens.revoke("fraud-pipeline");
    expect((await call(`Bearer ${token}`)).status).toBe(401);
  });

  it("accepts the bootstrap token from MLOPS_API_TOKEN", async () => {
    expect(await call("Bearer bootstrap-secret-value")).toMatchObject({
      status: 200,
      body: { caller: "bootstrap" },
    });
  });

  it("answers 401 with a Bearer challenge for no token, a wrong token and a malformed header", async () => {
    for (const header of [
      undefined,
      "Bearer mlops_0000000000000000000000000000000000000000",
      "Basic abc",
      "Bearer",
    ]) {
      const res = await call(header);
      expect(res.status, String(header)).toBe(401);
      expect(res.challenge).toBe('Bearer realm="mlops-bot"');
      expect(res.body.error).toBe("unauthorized");
    }
  });

  it("reserves the name bootstrap: a stored token can never pass for MLOPS_API_TOKEN's caller", async () => {
    await expect(tokens.create("bootstrap")).rejects.toMatchObject({ code: "invalid_name" });
    await expect(tokens.create("bootstrap", ["read"])).rejects.toThrow(/reserved/);
    expect((await tokens.list()).map((t) => t.name)).not.toContain("bootstrap");
  });

  it("a revoked token's name can be given to a new token; the old token stays refused", async () => {
    const old = await tokens.create("rotating");
    await tokens.revoke("rotating");
    const fresh = await tokens.create("rotating");
    expect((await call(`Bearer ${old}`)).status).toBe(401);
    expect(await call(`Bearer ${fresh}`)).toMatchObject({ status: 200, body: { caller: "rotating" } });
    // Still only one active token per name.
    await expect(tokens.create("rotating")).rejects.toMatchObject({ code: "name_taken" });
    expect(
      (await tokens.list()).filter((t) => t.name === "rotating").map((t) => Boolean(t.revokedAt)),
    ).toEqual([true, false]);
  });

  it("stores scopes, refuses unknown ones, and reports them when verifying", async () => {
    const token = await tokens.create("scoped", ["read", "ingest", "read"]);
    expect(await tokens.verify(token)).toMatchObject({ tokenName: "scoped", scopes: ["ingest", "read"] });
    await expect(tokens.create("badscope", ["write"])).rejects.toMatchObject({ code: "invalid_scope" });
    expect((await tokens.list()).map((t) => t.name)).not.toContain("badscope");
    expect(await tokens.verify("bootstrap-secret-value")).toMatchObject({
      tokenName: "bootstrap",
      scopes: [],
    });
  });

  it("records last use off the request path: nothing is written while verifying, one batched write follows", async () => {
    // The flush interval is long enough that a loaded machine still finishes the verifies first.
    const batched = createApiTokenService(database.db, systemClock, undefined, { flushEveryMs: 1500 });
    const token = await batched.create("batched");
    const lastUsed = async () => {
      const row = (await batched.list()).find((t) => t.name === "batched");
      return row?.lastUsedAt ?? null;
    };
    const before = Date.now();
    for (let i = 0; i < 20; i++) expect(await batched.verify(token)).toMatchObject({ tokenName: "batched" });
    expect(await lastUsed()).toBeNull();
    const started = Date.now();
    let seen: Date | null = null;
    while (!seen && Date.now() - started < 8000) {
      seen = await lastUsed();
      if (!seen) await new Promise((r) => setTimeout(r, 20));
    }
    expect(seen?.getTime()).toBeGreaterThanOrEqual(before - 1000);
    // And close() writes what is pending at once (the bot calls it at shutdown).
    const other = createApiTokenService(database.db, systemClock, undefined, { flushEveryMs: 3_600_000 });
    const t2 = await other.create("flushed-at-close");
    await other.verify(t2);
    await other.close();
    expect((await other.list()).find((t) => t.name === "flushed-at-close")?.lastUsedAt).toBeInstanceOf(Date);
  });

  it("refuses a duplicate name and a bad name without writing", async () => {
    await tokens.create("dup");
    await expect(tokens.create("dup")).rejects.toMatchObject({ code: "name_taken" });
    await expect(tokens.create("Bad Name!")).rejects.toMatchObject({ code: "invalid_name" });
    expect((await tokens.list()).map((t) => t.name)).not.toContain("Bad Name!");
  });
});

describe("upgrading a database that has a token called bootstrap", () => {
  it("renames it so the reserved name is free; the token keeps working under its new name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mlops-migrations-"));
    cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
    const journalPath = join(dir, "meta", "_journal.json");
    const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
    journal.entries = journal.entries.slice(
      0,
      journal.entries.findIndex((e) => e.tag === "0008_rollups_partitions") + 1,
    );
    writeFileSync(journalPath, JSON.stringify(journal));
    const created = TEST_DATABASE_URL ? await createEmptyPostgresDatabase() : undefined;
    const db = created
      ? openPostgres(created.url, testLogger, { max: 2 })
      : await openPglite(null, testLogger);
    try {
      await db.migrate(dir);
      const token = "mlops_0123456789abcdef0123456789abcdef01234567";
      await db.db.execute(
        sql`insert into api_tokens (name, token_hash, prefix) values ('bootstrap', ${hashToken(token)}, 'mlops_0123')`,
      );
      await db.migrate();
      const service = createApiTokenService(db.db, systemClock);
      const caller = await service.verify(token);
      expect(caller?.tokenName).toMatch(/^bootstrap-renamed-\d+$/);
      expect(caller?.scopes).toEqual([]);
      expect((await service.list()).map((t) => t.name)).not.toContain("bootstrap");
    } finally {
      await db.close();
      await created?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("npm run token:create", () => {
  it("--scope limits the new token; an unknown scope is refused", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mlops-token-"));
    try {
      const run = promisify(execFile);
      const args = [
        "--import",
        "tsx",
        "scripts/token.ts",
        "create",
        "ingest-job",
        "--scope",
        "ingest",
        "--scope=alerts",
      ];
      const env = { PATH: process.env.PATH ?? "", MLOPS_DATA_DIR: dataDir };
      const { stdout, stderr } = await run(process.execPath, args, { cwd: ROOT, env });
      expect(stderr).toContain("scopes alerts, ingest");
      await expect(
        run(process.execPath, ["--import", "tsx", "scripts/token.ts", "create", "x", "--scope", "root"], {
          cwd: ROOT,
          env,
        }),
      ).rejects.toMatchObject({ stderr: expect.stringContaining("unknown scope root") });
      const db = await openPglite(dataDir, testLogger);
      try {
        const service = createApiTokenService(db.db, systemClock);
        expect(await service.verify(stdout.trim())).toMatchObject({
          tokenName: "ingest-job",
          scopes: ["alerts", "ingest"],
        });
      } finally {
        await db.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("prints a new token once and stores it for the bot's database", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mlops-token-"));
    try {
      const run = promisify(execFile);
      const { stdout, stderr } = await run(
        process.execPath,
        ["--import", "tsx", "scripts/token.ts", "create", "ci-job"],
        {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? "", MLOPS_DATA_DIR: dataDir },
        },
      );
      const token = stdout.trim();
      expect(token).toMatch(/^mlops_[0-9a-f]{40}$/);
      expect(stderr).toContain('Created API token "ci-job"');
      const db = await openPglite(dataDir, testLogger);
      try {
        const service = createApiTokenService(db.db, systemClock);
        expect(await service.verify(token)).toMatchObject({ tokenName: "ci-job", scopes: [] });
      } finally {
        await db.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
