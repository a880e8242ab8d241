/**
 * A small client of MLflow's Model Registry REST API 2.0 (plain fetch): the champion alias, one
 * model version and the run behind it. Shapes follow mlflow/protos/model_registry.proto and
 * service.proto; errors are MLflow's `{"error_code", "message"}` bodies (mlflow/exceptions.py maps
 * the codes to statuses). Every failure says whether a retry may help. The token is only ever put
 * in the Authorization header, never in an error text.
 */
import type { RegistryConfig } from "../config/index.js";

/** `ModelVersion` of model_registry.proto, as much of it as the bot reads. */
export interface MlflowModelVersion {
  name: string;
  version: string;
  source?: string;
  run_id?: string;
  run_link?: string;
  user_id?: string;
  status?: string;
  tags?: { key: string; value: string }[];
  aliases?: string[];
}

/** `Run` of service.proto: info and data (metrics, params, tags). */
export interface MlflowRun {
  info?: { run_id?: string; experiment_id?: string; user_id?: string; run_name?: string };
  data?: {
    metrics?: { key: string; value: number }[];
    tags?: { key: string; value: string }[];
  };
}

/** A failed request: its status (0: no answer), MLflow's error code and whether to retry. */
export class MlflowError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

/** Network errors, timeouts, 5xx, 408 and 429 may pass; 4xx (a bad token, a missing version) will not. */
function retryable(status: number): boolean {
  return status === 0 || status >= 500 || status === 408 || status === 429;
}

/** MLflow's answer to an unset alias: 400 INVALID_PARAMETER_VALUE "Registered model alias X not found." */
function isMissingAlias(err: MlflowError): boolean {
  return (
    err.code === "RESOURCE_DOES_NOT_EXIST" ||
    (err.code === "INVALID_PARAMETER_VALUE" && /alias .* not found/i.test(err.message))
  );
}

/** The MLflow client of one registered model. */
export function createMlflowClient(cfg: RegistryConfig, signal?: AbortSignal) {
  const base = `${cfg.url.replace(/\/$/, "")}/api/2.0/mlflow`;

  async function request<T>(
    method: "GET" | "POST" | "DELETE",
    path: string,
    params: Record<string, string>,
  ): Promise<T> {
    const timeout = AbortSignal.timeout(cfg.timeout);
    const query = method === "GET" ? `?${new URLSearchParams(params)}` : "";
    let res: Response;
    try {
      res = await fetch(`${base}${path}${query}`, {
        method,
        headers: {
          accept: "application/json",
          ...(method === "GET" ? {} : { "content-type": "application/json" }),
          ...(cfg.token ? { authorization: `Bearer ${cfg.token}` } : {}),
        },
        ...(method === "GET" ? {} : { body: JSON.stringify(params) }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        redirect: "error",
      });
    } catch (err) {
      const e = err as Error;
      const why = e.name === "TimeoutError" ? `timed out after ${cfg.timeout} ms` : e.message;
      throw new MlflowError(0, "UNREACHABLE", `MLflow ${method} ${path}: ${why}`, true);
    }
    const text = (await res.text()).slice(0, 64 * 1024);
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      body = {};
    }
    if (!res.ok) {
      const code = typeof body.error_code === "string" ? body.error_code : `HTTP_${res.status}`;
      const message = typeof body.message === "string" ? body.message : text.slice(0, 200);
      const auth = res.status === 401 || res.status === 403 ? " (check the registry token)" : "";
      throw new MlflowError(
        res.status,
        code,
        `MLflow ${method} ${path}: HTTP ${res.status} ${code}${message ? `: ${message.slice(0, 300)}` : ""}${auth}`,
        retryable(res.status),
      );
    }
    return body as T;
  }

  return {
    /** The version the alias names, or null when the alias is not set. */
    async aliasVersion(alias = cfg.champion_alias): Promise<string | null> {
      try {
        const body = await request<{ model_version?: MlflowModelVersion }>(
          "GET",
          "/registered-models/alias",
          { name: cfg.model_name, alias },
        );
        return body.model_version?.version ?? null;
      } catch (err) {
        if (err instanceof MlflowError && isMissingAlias(err)) return null;
        throw err;
      }
    },
    /** Points the alias at `version` (MLflow replaces an existing alias). */
    async setAlias(version: string, alias = cfg.champion_alias): Promise<void> {
      await request("POST", "/registered-models/alias", { name: cfg.model_name, alias, version });
    },
    /** One model version. */
    async version(version: string): Promise<MlflowModelVersion> {
      const body = await request<{ model_version?: MlflowModelVersion }>("GET", "/model-versions/get", {
        name: cfg.model_name,
        version,
      });
      if (!body.model_version)
        throw new MlflowError(200, "BAD_RESPONSE", "MLflow answered without a model_version", false);
      return body.model_version;
    },
    /** The newest versions of the model (at most `max`), newest first. */
    async newestVersions(max: number): Promise<string[]> {
      const body = await request<{ model_versions?: MlflowModelVersion[] }>("GET", "/model-versions/search", {
        filter: `name='${cfg.model_name.replace(/'/g, "\\'")}'`,
        max_results: String(max),
        order_by: "version_number DESC",
      });
      return (body.model_versions ?? []).map((v) => v.version);
    },
    /** The run a version was logged from (metrics and tags). */
    async run(runId: string): Promise<MlflowRun> {
      const body = await request<{ run?: MlflowRun }>("GET", "/runs/get", { run_id: runId });
      return body.run ?? {};
    },
  };
}

/** The client of one registered model. */
export type MlflowClient = ReturnType<typeof createMlflowClient>;
