/**
 * A local stand-in for an MLflow tracking server's Model Registry (REST API 2.0), with the
 * endpoints the bot uses and MLflow's shapes. Sources: mlflow/protos/model_registry.proto (paths,
 * `ModelVersion`, `RegisteredModelAlias`, set-alias answering `{}`), mlflow/protos/service.proto
 * (`GET /mlflow/runs/get` → `{run: {info, data: {metrics, tags}}}`), mlflow/server/handlers.py
 * (`_get_model_version_by_alias` answers `{model_version}`), mlflow/exceptions.py (error bodies
 * `{"error_code", "message"}`; RESOURCE_DOES_NOT_EXIST → 404, INVALID_PARAMETER_VALUE → 400) and
 * the file/SQL stores, which answer an unset alias with 400 INVALID_PARAMETER_VALUE
 * "Registered model alias X not found.". A bad token gets 401, a token without rights 403.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A version as the fake stores it (`ModelVersion` of model_registry.proto). */
export interface FakeVersion {
  version: string;
  source?: string;
  run_id?: string;
  run_link?: string;
  user_id?: string;
  tags?: Record<string, string>;
}

/** A run (`Run` of service.proto): metrics and tags. */
export interface FakeRun {
  run_id: string;
  experiment_id: string;
  user_id?: string;
  metrics: Record<string, number>;
  tags?: Record<string, string>;
}

/** One request the fake received (the token is kept so tests can check it was sent). */
export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: Record<string, unknown>;
  authorization: string | undefined;
}

/** A registry with one registered model; `failNext` injects outages (5xx, 429) per method and path. */
export async function startFakeMlflow(opts: { model: string; token: string }) {
  const versions = new Map<string, FakeVersion>();
  const aliases = new Map<string, string>();
  const runs = new Map<string, FakeRun>();
  const requests: FakeRequest[] = [];
  const failures: { key: string; status: number; times: number }[] = [];

  const error = (status: number, code: string, message: string) => ({
    status,
    body: { error_code: code, message },
  });
  const versionProto = (v: FakeVersion) => ({
    name: opts.model,
    version: v.version,
    creation_timestamp: 1_700_000_000_000,
    last_updated_timestamp: 1_700_000_000_000,
    current_stage: "None",
    description: "",
    source: v.source ?? `models:/m-${v.version}`,
    run_id: v.run_id ?? "",
    ...(v.run_link ? { run_link: v.run_link } : {}),
    ...(v.user_id ? { user_id: v.user_id } : {}),
    status: "READY",
    tags: Object.entries(v.tags ?? {}).map(([key, value]) => ({ key, value })),
    aliases: [...aliases].filter(([, to]) => to === v.version).map(([a]) => a),
  });

  function handle(r: FakeRequest): { status: number; body: unknown } {
    if (r.authorization !== `Bearer ${opts.token}`)
      return r.authorization?.startsWith("Bearer ")
        ? error(403, "PERMISSION_DENIED", "Permission denied")
        : error(401, "UNAUTHENTICATED", "You are not authenticated.");
    const key = `${r.method} ${r.path}`;
    const fail = failures.find((f) => f.key === key && f.times > 0);
    if (fail) {
      fail.times--;
      return fail.status === 429
        ? error(429, "REQUEST_LIMIT_EXCEEDED", "Too many requests")
        : error(fail.status, "TEMPORARILY_UNAVAILABLE", "The registry is unavailable");
    }
    const name = String(r.query.name ?? r.body.name ?? "");
    const named =
      r.path.startsWith("/api/2.0/mlflow/registered-models/") ||
      (r.path.startsWith("/api/2.0/mlflow/model-versions/") && !r.path.endsWith("/search"));
    if (named)
      if (name !== opts.model)
        return error(404, "RESOURCE_DOES_NOT_EXIST", `Registered Model with name=${name} not found`);
    switch (key) {
      case "GET /api/2.0/mlflow/registered-models/alias": {
        const alias = r.query.alias ?? "";
        const to = aliases.get(alias);
        const v = to ? versions.get(to) : undefined;
        if (!v) return error(400, "INVALID_PARAMETER_VALUE", `Registered model alias ${alias} not found.`);
        return { status: 200, body: { model_version: versionProto(v) } };
      }
      case "POST /api/2.0/mlflow/registered-models/alias": {
        const alias = String(r.body.alias ?? "");
        const version = String(r.body.version ?? "");
        if (!alias || !version)
          return error(400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'alias'.");
        if (!versions.has(version))
          return error(
            404,
            "RESOURCE_DOES_NOT_EXIST",
            `Model Version (name=${name}, version=${version}) not found`,
          );
        aliases.set(alias, version);
        return { status: 200, body: {} };
      }
      case "DELETE /api/2.0/mlflow/registered-models/alias":
        aliases.delete(String(r.body.alias ?? r.query.alias ?? ""));
        return { status: 200, body: {} };
      case "GET /api/2.0/mlflow/model-versions/get": {
        const v = versions.get(r.query.version ?? "");
        if (!v)
          return error(
            404,
            "RESOURCE_DOES_NOT_EXIST",
            `Model Version (name=${name}, version=${r.query.version}) not found`,
          );
        return { status: 200, body: { model_version: versionProto(v) } };
      }
      case "GET /api/2.0/mlflow/model-versions/search": {
        // Only the filter the docs lead with, name='<model>', and order_by version_number.
        const filter = r.query.filter ?? "";
        if (filter && !/^name\s*=\s*'[^']*'$/.test(filter))
          return error(400, "INVALID_PARAMETER_VALUE", `Invalid filter '${filter}'`);
        const all = [...versions.values()].sort((a, b) => Number(a.version) - Number(b.version));
        if (/DESC$/i.test(r.query.order_by ?? "")) all.reverse();
        const max = Number(r.query.max_results ?? 200_000);
        return { status: 200, body: { model_versions: all.slice(0, max).map(versionProto) } };
      }
      case "GET /api/2.0/mlflow/runs/get": {
        const run = runs.get(r.query.run_id ?? "");
        if (!run) return error(404, "RESOURCE_DOES_NOT_EXIST", `Run '${r.query.run_id}' not found`);
        return {
          status: 200,
          body: {
            run: {
              info: {
                run_id: run.run_id,
                run_uuid: run.run_id,
                experiment_id: run.experiment_id,
                user_id: run.user_id ?? "",
                status: "FINISHED",
                lifecycle_stage: "active",
              },
              data: {
                metrics: Object.entries(run.metrics).map(([k, value]) => ({
                  key: k,
                  value,
                  timestamp: 1_700_000_000_000,
                  step: 0,
                })),
                params: [],
                tags: Object.entries(run.tags ?? {}).map(([k, value]) => ({ key: k, value })),
              },
            },
          },
        };
      }
      default:
        return error(404, "ENDPOINT_NOT_FOUND", `No endpoint ${key}`);
    }
  }

  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => {
      raw += c.toString("utf8");
    });
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      let body: Record<string, unknown> = {};
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {}
      const r: FakeRequest = {
        method: req.method ?? "GET",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body,
        authorization: req.headers.authorization,
      };
      requests.push(r);
      const out = handle(r);
      res.writeHead(out.status, { "content-type": "application/json" }).end(JSON.stringify(out.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Registers a version (as `mlflow.register_model` would) and, optionally, its run. */
    addVersion(v: FakeVersion, run?: FakeRun): void {
      versions.set(v.version, v);
      if (run) runs.set(run.run_id, run);
    },
    /** Points an alias at a version (as someone in the MLflow UI would). */
    setAlias(alias: string, version: string): void {
      aliases.set(alias, version);
    },
    alias(alias: string): string | undefined {
      return aliases.get(alias);
    },
    /** Answer the next `times` requests to `METHOD /path` with `status` (503, 429, …). */
    failNext(method: string, path: string, status: number, times = 1): void {
      failures.push({ key: `${method} ${path}`, status, times });
    },
    /** Requests that changed an alias. */
    aliasWrites(): FakeRequest[] {
      return requests.filter((r) => r.method !== "GET" && r.path.endsWith("/registered-models/alias"));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A running fake registry. */
export type FakeMlflow = Awaited<ReturnType<typeof startFakeMlflow>>;
