import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** The bot's Prometheus metrics, on a registry of its own (no global state). */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequestDuration: Histogram<"method" | "route" | "status_code">;
  readonly slackRequests: Counter<"kind" | "outcome">;
  readonly slackAckDuration: Histogram<"kind">;
}

/** Creates the registry with process metrics, HTTP request timing and Slack handling metrics. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "mlops_" });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: "mlops_http_request_duration_seconds",
      help: "HTTP request duration by method, route and status code",
      labelNames: ["method", "route", "status_code"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    slackRequests: new Counter({
      name: "mlops_slack_requests_total",
      help: "Requests received from Slack by kind (command, block_actions, view_submission, event, …) and outcome",
      labelNames: ["kind", "outcome"],
      registers: [registry],
    }),
    slackAckDuration: new Histogram({
      name: "mlops_slack_ack_duration_seconds",
      help: "Time from receiving a Slack request to sending its acknowledgement",
      labelNames: ["kind"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3],
      registers: [registry],
    }),
  };
}
