import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdapterClient, signWebhook } from "../../src/retraining/index.js";

interface Hit {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
let server: Server;
let base: string;
const hits: Hit[] = [];
let status = 204;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      hits.push({ url: req.url ?? "", headers: req.headers, body });
      res.writeHead(status).end(status >= 400 ? "nope" : "");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const dir = mkdtempSync(join(tmpdir(), "mlops-adapter-"));

/** True while `pid` runs; a zombie (killed, not yet reaped) counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Polls `check` until it holds or `timeoutMs` passes; the last answer is returned. */
async function eventually(check: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  return check();
}

/** A script that starts a grandchild holding the inherited stdout, writes its pid, then idles (or exits). */
function spawner(name: string, thenExit: boolean): { path: string; pidFile: string } {
  const pidFile = join(dir, `${name}.pid`);
  const path = join(dir, `${name}.mjs`);
  writeFileSync(
    path,
    `import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
const g = spawn(process.execPath, ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: "inherit" });
writeFileSync(${JSON.stringify(pidFile)}, String(g.pid));
${thenExit ? "process.exit(0);" : "setInterval(() => {}, 1000);"}`,
  );
  return { path, pidFile };
}

const client = createAdapterClient();
const request = {
  id: 7,
  event: "retrain.requested",
  payload: {
    model: "fraud-detector",
    request_id: 3,
    reason: "drift; rm -rf /",
    callback_url: "http://bot/cb",
  },
  secrets: { callback_token: "mlrt_secret" },
};

describe("adapters", () => {
  it("the webhook signature is HMAC-SHA256 over v1:<timestamp>:<body>", () => {
    const expected = createHmac("sha256", "s3cret-s3cret-s3cret").update("v1:1700000000:{}").digest("hex");
    expect(signWebhook("s3cret-s3cret-s3cret", 1_700_000_000, "{}")).toBe(`v1=${expected}`);
  });

  it("a webhook 5xx may be retried, a 4xx may not", async () => {
    const adapter = {
      type: "webhook" as const,
      url: `${base}/hook`,
      secret: "0123456789abcdef",
      timeout: 2000,
    };
    status = 503;
    expect(await client.call(adapter, request)).toMatchObject({ ok: false, retry: true });
    status = 400;
    expect(await client.call(adapter, request)).toMatchObject({ ok: false, retry: false });
    status = 204;
    expect(await client.call(adapter, request)).toMatchObject({ ok: true });
    const last = hits.at(-1) as Hit;
    expect(last.headers["x-mlops-delivery"]).toBe("7");
    expect(JSON.parse(last.body)).toMatchObject({
      id: 7,
      event: "retrain.requested",
      callback_token: "mlrt_secret",
    });
  });

  it("GitHub Actions: workflow_dispatch with the ref and string inputs, never the callback token", async () => {
    hits.length = 0;
    status = 204;
    const outcome = await client.call(
      {
        type: "github_actions",
        repository: "acme/fraud-model",
        workflow: "retrain.yml",
        ref: "main",
        token: "ghp_test",
        api_url: base,
        timeout: 2000,
      },
      request,
    );
    expect(outcome.ok).toBe(true);
    const hit = hits[0] as Hit;
    expect(hit.url).toBe("/repos/acme/fraud-model/actions/workflows/retrain.yml/dispatches");
    expect(hit.headers.authorization).toBe("Bearer ghp_test");
    expect(hit.headers["x-github-api-version"]).toBe("2022-11-28");
    const body = JSON.parse(hit.body);
    expect(body).toEqual({
      ref: "main",
      inputs: {
        model: "fraud-detector",
        request_id: "3",
        reason: "drift; rm -rf /",
        callback_url: "http://bot/cb",
      },
    });
    expect(hit.body).not.toContain("mlrt_secret");
  });

  it("a command runs without a shell, with only the MLOPS_* environment it is given", async () => {
    const script =
      "console.log(JSON.stringify({argv: process.argv.slice(1), env: Object.keys(process.env).sort(), reason: process.env.MLOPS_REASON, token: process.env.MLOPS_CALLBACK_TOKEN}))";
    const outcome = await client.call(
      { type: "command", command: ["node", "-e", script, "$(touch /tmp/pwned)", ";", "ls"], timeout: 10_000 },
      request,
    );
    expect(outcome.ok).toBe(true);
    const out = JSON.parse(String((outcome as unknown as { result: { output: string } }).result.output));
    expect(out.argv).toEqual(["$(touch /tmp/pwned)", ";", "ls"]);
    expect(out.reason).toBe("drift; rm -rf /");
    expect(out.token).toBe("mlrt_secret");
    for (const key of out.env as string[]) expect(key === "PATH" || key.startsWith("MLOPS_")).toBe(true);
  });

  it("a command that overruns its timeout is killed and may be retried; a failing one may not", async () => {
    const slow = await client.call(
      { type: "command", command: ["node", "-e", "setTimeout(() => {}, 10000)"], timeout: 300 },
      request,
    );
    expect(slow).toMatchObject({ ok: false, retry: true });
    const failing = await client.call(
      { type: "command", command: ["node", "-e", "process.exit(3)"], timeout: 5000 },
      request,
    );
    expect(failing).toMatchObject({ ok: false, retry: false });
    expect((failing as { error: string }).error).toContain("exited with 3");
  });

  it("a command's timeout kills its grandchildren too and answers at once, not when they end", async () => {
    const { path, pidFile } = spawner("holder", false);
    const started = Date.now();
    const outcome = await client.call({ type: "command", command: ["node", path], timeout: 1000 }, request);
    expect(outcome).toMatchObject({ ok: false, retry: true });
    expect((outcome as { error: string }).error).toContain("after 1000 ms");
    expect(Date.now() - started).toBeLessThan(4000);
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    expect(await eventually(() => !alive(grandchild)), `grandchild ${grandchild} is still alive`).toBe(true);
  });

  it("a command that exits leaving a grandchild on its pipes answers promptly, and the grandchild is killed", async () => {
    const { path, pidFile } = spawner("leaver", true);
    const started = Date.now();
    const outcome = await client.call({ type: "command", command: ["node", path], timeout: 20_000 }, request);
    expect(outcome).toMatchObject({ ok: true });
    expect(Date.now() - started).toBeLessThan(5000);
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    expect(await eventually(() => !alive(grandchild)), `grandchild ${grandchild} is still alive`).toBe(true);
  });
});
