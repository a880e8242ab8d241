import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiTokenService, createApiTokenService, hashToken } from "../../src/api-tokens/index.js";
import { type Database, openPglite } from "../../src/db/index.js";
import { bearerAuth } from "../../src/http/bearer-auth.js";
import { systemClock } from "../../src/shared/clock.js";
import { openTestDatabase, testLogger } from "../helpers/db.js";
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

  it("refuses a duplicate name and a bad name without writing", async () => {
    await tokens.create("dup");
    await expect(tokens.create("dup")).rejects.toMatchObject({ code: "name_taken" });
    await expect(tokens.create("Bad Name!")).rejects.toMatchObject({ code: "invalid_name" });
    expect((await tokens.list()).map((t) => t.name)).not.toContain("Bad Name!");
  });
});

describe("npm run token:create", () => {
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
        expect(await service.verify(token)).toEqual({ tokenName: "ci-job" });
      } finally {
        await db.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
