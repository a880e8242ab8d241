/**
 * The demo's fake fraud-detector microservice: `GET /health`, `POST /predict`, and the admin
 * endpoints the L1 runbooks call (`POST /admin/restart`, `/admin/rollback`, `/admin/cache/clear`,
 * and `/admin/break` to make it misbehave in a demo). State lives in memory.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** What the service reports and the admin endpoints change. */
export interface FraudServiceState {
  healthy: boolean;
  version: string;
  /** Earlier versions, newest last: what a rollback returns to. */
  previous: string[];
  cacheEntries: number;
  cacheClearedAt: string | null;
  restarts: number;
  startedAt: string;
}

/** A running fake service. */
export interface FraudService {
  url: string;
  state: FraudServiceState;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let raw = "";
    req.on("data", (d) => {
      raw += d;
    });
    req.on("end", () => resolve(raw));
  });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
}

/** Starts the service on `port` (0 picks one); `score` is the model (P(fraud) from the features). */
export function startFraudService(opts: {
  port: number;
  host?: string;
  score: (features: Record<string, unknown>) => number;
  version?: string;
  previous?: string[];
}): Promise<FraudService> {
  const host = opts.host ?? "127.0.0.1";
  const state: FraudServiceState = {
    healthy: true,
    version: opts.version ?? "v2",
    previous: opts.previous ?? ["v1"],
    cacheEntries: 1200,
    cacheClearedAt: null,
    restarts: 0,
    startedAt: new Date().toISOString(),
  };
  const health = () => ({
    status: state.healthy ? "ok" : "degraded",
    version: state.version,
    rollback_to: state.previous.at(-1) ?? null,
    cache: { entries: state.cacheEntries, cleared_at: state.cacheClearedAt },
    restarts: state.restarts,
    started_at: state.startedAt,
  });
  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const route = `${req.method} ${req.url}`;
    switch (route) {
      case "GET /health":
        return json(res, state.healthy ? 200 : 503, health());
      case "POST /predict": {
        if (!state.healthy) return json(res, 503, { error: "degraded" });
        let features: Record<string, unknown> = {};
        try {
          features = (JSON.parse(raw || "{}") as { features?: Record<string, unknown> }).features ?? {};
        } catch {
          return json(res, 400, { error: "invalid_json" });
        }
        state.cacheEntries += 1;
        const p = opts.score(features);
        return json(res, 200, {
          prediction: p >= 0.5 ? 1 : 0,
          confidence: Math.max(p, 1 - p),
          version: state.version,
        });
      }
      case "POST /admin/restart":
        state.healthy = true;
        state.restarts += 1;
        state.startedAt = new Date().toISOString();
        return json(res, 200, { restarted: true, ...health() });
      case "POST /admin/rollback": {
        const to = state.previous.pop();
        if (!to) return json(res, 409, { error: "no_previous_version", version: state.version });
        const from = state.version;
        state.version = to;
        return json(res, 200, { rolled_back_from: from, ...health() });
      }
      case "POST /admin/cache/clear": {
        const cleared = state.cacheEntries;
        state.cacheEntries = 0;
        state.cacheClearedAt = new Date().toISOString();
        return json(res, 200, { cleared, ...health() });
      }
      case "POST /admin/break":
        state.healthy = false;
        return json(res, 200, health());
      default:
        res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, host, () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : opts.port;
      resolve({
        url: `http://${host}:${port}`,
        state,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
