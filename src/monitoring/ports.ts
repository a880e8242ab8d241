/** What the monitoring engine needs from outside, wired by the feature. */
export type { AlertSignal, AlertSink } from "../shared/alert-signal.js";

/** A call to a model's microservice. */
export interface ServiceResponse {
  status: number;
  body: unknown;
  latencyMs: number;
}

/** Calls a model's microservice (health and golden-set predictions); rejects on network errors and timeouts. */
export interface ModelServiceClient {
  get(url: string, timeoutMs: number): Promise<ServiceResponse>;
  post(url: string, body: unknown, timeoutMs: number): Promise<ServiceResponse>;
}
