/**
 * Calls to the outside world: a pipeline to retrain, a deployment to move traffic. Three kinds:
 * a signed JSON webhook, a GitHub Actions `workflow_dispatch`, and a local command spawned
 * without a shell. Each call answers ok, or a failure that says whether a retry may help.
 */
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import type { RetrainingConfig } from "../config/index.js";
import { killGroup } from "../shared/process-group.js";

/** A pipeline or deploy adapter from the config. */
export type AdapterConfig = RetrainingConfig["pipeline"] | NonNullable<RetrainingConfig["deploy"]>;

/** One call: what happens (`event`), its id (the idempotency key) and its data. */
export interface AdapterRequest {
  id: number;
  event: string;
  payload: Record<string, unknown>;
  /** Secrets for the callee (the callback token) that are never stored with the call. */
  secrets?: Record<string, string>;
}

/** What a call came to. */
export type AdapterOutcome =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; retry: boolean; error: string };

/** Makes adapter calls; tests may pass their own. */
export interface AdapterClient {
  call(adapter: AdapterConfig, request: AdapterRequest, signal?: AbortSignal): Promise<AdapterOutcome>;
}

/** The header with the signature of a webhook body. */
export const SIGNATURE_HEADER = "x-mlops-signature";
/** The header with the Unix time (seconds) the signature covers. */
export const TIMESTAMP_HEADER = "x-mlops-timestamp";

/**
 * Signs a webhook body: `v1=` + hex HMAC-SHA256 over `v1:<timestamp>:<body>` with the shared
 * secret. Receivers recompute it, compare in constant time, and reject timestamps more than five
 * minutes old (replays).
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac("sha256", secret).update(`v1:${timestamp}:${body}`).digest("hex")}`;
}

const MAX_OUTPUT = 16 * 1024;

function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

async function postJson(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<AdapterOutcome> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      redirect: "error",
    });
    const text = (await res.text()).slice(0, MAX_OUTPUT);
    if (!res.ok)
      return {
        ok: false,
        retry: retryableStatus(res.status),
        error: `HTTP ${res.status}${text ? `: ${text.slice(0, 300)}` : ""}`,
      };
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = {};
    }
    const runUrl = (parsed as { run_url?: unknown }).run_url;
    return {
      ok: true,
      result: { status: res.status, ...(typeof runUrl === "string" ? { run_url: runUrl } : {}) },
    };
  } catch (err) {
    const e = err as Error;
    return {
      ok: false,
      retry: true,
      error: e.name === "TimeoutError" ? `timed out after ${timeoutMs} ms` : e.message,
    };
  }
}

/**
 * Runs a program without a shell: an explicit environment, a timeout, capped output. It leads its
 * own process group, and the group is what gets killed (at the timeout, on abort, and once the
 * program exits), so a grandchild can neither outlive the call nor hold it open through its pipes.
 */
function runCommand(
  argv: readonly string[],
  env: Record<string, string>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<AdapterOutcome> {
  return new Promise((resolve) => {
    const [program, ...args] = argv as [string, ...string[]];
    // `node` means this very runtime, whatever PATH says.
    const file = program === "node" ? process.execPath : program;
    let out = "";
    const keep = (chunk: Buffer) => {
      if (out.length < MAX_OUTPUT) out += chunk.toString("utf8").slice(0, MAX_OUTPUT - out.length);
    };
    const child = spawn(file, args, {
      shell: false,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stopped: "timeout" | "abort" | undefined;
    let exit: { code: number | null; sig: NodeJS.Signals | null } | undefined;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const stop = (why: "timeout" | "abort") => {
      if (exit || !child.pid) return;
      stopped ??= why;
      killGroup(child.pid, "SIGKILL");
    };
    const onAbort = () => stop("abort");
    const settle = (outcome: AdapterOutcome) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      signal?.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    const finish = () => {
      const tail = out.trim().slice(-500);
      const { code, sig } = exit ?? { code: null, sig: null };
      if (code === 0 && !stopped) {
        const runUrl = /^run_url=(\S+)$/m.exec(out)?.[1];
        settle({ ok: true, result: { exit: 0, output: tail, ...(runUrl ? { run_url: runUrl } : {}) } });
      } else if (stopped === "timeout")
        settle({ ok: false, retry: true, error: `${file} was stopped (SIGKILL) after ${timeoutMs} ms` });
      else if (stopped === "abort")
        settle({ ok: false, retry: true, error: `${file} was stopped (aborted)` });
      else
        settle({
          ok: false,
          retry: sig !== null,
          error: sig ? `${file} was stopped (${sig})` : `${file} exited with ${code}: ${tail}`,
        });
    };
    timers.push(setTimeout(() => stop("timeout"), timeoutMs));
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (err) =>
      settle({ ok: false, retry: false, error: `could not run ${file}: ${err.message}` }),
    );
    child.once("exit", (code, sig) => {
      exit = { code, sig };
      // Whatever it left running in its group dies with it; their pipes then close.
      if (child.pid) killGroup(child.pid, "SIGKILL");
      // A grandchild that left the group could hold the pipes open: do not wait for it.
      timers.push(setTimeout(finish, 1000));
    });
    child.once("close", () => {
      if (exit) finish();
    });
  });
}

/** `MLOPS_MODEL`, `MLOPS_CALLBACK_URL`…: the payload's scalar fields as environment variables. */
export function commandEnv(request: AdapterRequest, path: string | undefined): Record<string, string> {
  const env: Record<string, string> = { MLOPS_EVENT: request.event, MLOPS_CALL_ID: String(request.id) };
  if (path) env.PATH = path;
  const put = (key: string, value: unknown) => {
    if (value === null || value === undefined) return;
    if (typeof value === "object") {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) put(`${key}_${k}`, v);
      return;
    }
    env[`MLOPS_${key.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`] = String(value);
  };
  for (const [k, v] of Object.entries(request.payload)) put(k, v);
  for (const [k, v] of Object.entries(request.secrets ?? {})) put(k, v);
  return env;
}

/** The `workflow_dispatch` inputs a retraining workflow declares (all optional strings). */
export const GITHUB_INPUTS = [
  "model",
  "request_id",
  "incident",
  "reason",
  "requested_by",
  "callback_url",
] as const;

/** A PATH for commands: the usual system directories (the bot's own environment is not passed on). */
export const DEFAULT_COMMAND_PATH = "/usr/local/bin:/usr/bin:/bin";

/** The production adapter client: fetch and child processes. */
export function createAdapterClient(opts: { path?: string } = {}): AdapterClient {
  return {
    async call(adapter, request, signal) {
      switch (adapter.type) {
        case "webhook": {
          const body = JSON.stringify({
            id: request.id,
            event: request.event,
            ...request.payload,
            ...request.secrets,
          });
          const ts = Math.floor(Date.now() / 1000);
          return postJson(
            adapter.url,
            {
              [TIMESTAMP_HEADER]: String(ts),
              [SIGNATURE_HEADER]: signWebhook(adapter.secret, ts, body),
              "x-mlops-event": request.event,
              "x-mlops-delivery": String(request.id),
            },
            body,
            adapter.timeout,
            signal,
          );
        }
        case "github_actions": {
          // GitHub refuses inputs a workflow does not declare, so a fixed set is sent (see docs/retraining.md);
          // inputs show on the run's page, so the callback token is not among them: the workflow
          // reports with its own API token (a repository secret).
          const inputs: Record<string, string> = {};
          for (const k of GITHUB_INPUTS) {
            const v = request.payload[k];
            if (v !== null && v !== undefined && typeof v !== "object") inputs[k] = String(v).slice(0, 1000);
          }
          const url = `${adapter.api_url.replace(/\/$/, "")}/repos/${adapter.repository}/actions/workflows/${encodeURIComponent(adapter.workflow)}/dispatches`;
          const outcome = await postJson(
            url,
            {
              authorization: `Bearer ${adapter.token}`,
              accept: "application/vnd.github+json",
              "x-github-api-version": "2022-11-28",
              "user-agent": "mlops-bot",
            },
            JSON.stringify({ ref: adapter.ref, inputs }),
            adapter.timeout,
            signal,
          );
          if (outcome.ok)
            outcome.result.run_url = `https://github.com/${adapter.repository}/actions/workflows/${adapter.workflow}`;
          return outcome;
        }
        case "command":
          return runCommand(
            adapter.command,
            commandEnv(request, opts.path ?? DEFAULT_COMMAND_PATH),
            adapter.timeout,
            signal,
          );
      }
    },
  };
}
