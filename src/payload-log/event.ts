/**
 * Reads one KServe / Seldon payload-logging CloudEvent from an HTTP request with the `cloudevents`
 * SDK: binary mode (metadata in `ce-*` headers, as KServe's logger sends it) or structured mode.
 */
import { type CloudEventV1, HTTP } from "cloudevents";
import { isStorable } from "../shared/storable.js";
import { InvalidEventError } from "./errors.js";

/** `ce-type` values of logged inferences: KServe's and Seldon Core's executor's. */
export const EVENT_TYPES = {
  "org.kubeflow.serving.inference.request": "request",
  "org.kubeflow.serving.inference.response": "response",
  "io.seldon.serving.inference.request": "request",
  "io.seldon.serving.inference.response": "response",
} as const;

/** Which half of an inference an event carries. */
export type Half = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

/** Longest `ce-id` taken: row ids get `#<index>` appended and are capped at 200 characters. */
export const MAX_EVENT_ID = 180;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** One logged half of an inference. */
export interface LoggedEvent {
  id: string;
  half: Half;
  /** `ce-inferenceservicename`: the InferenceService (or SeldonDeployment) name. */
  service: string;
  namespace: string | undefined;
  source: string;
  /** `ce-time`, when the sender set one. */
  time: Date | null;
  /** The body, parsed as JSON. */
  data: unknown;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/** The body as JSON whatever content type the logger forwarded (KServe copies the caller's). */
function json(data: unknown): unknown {
  const raw = Buffer.isBuffer(data) || data instanceof Uint8Array ? Buffer.from(data).toString("utf8") : data;
  if (typeof raw !== "string") return raw;
  try {
    return JSON.parse(raw);
  } catch {
    throw new InvalidEventError("the event's data is not JSON");
  }
}

/** Parses and checks one event; throws InvalidEventError saying what is wrong. */
export function parseLoggedEvent(headers: Record<string, unknown>, body: string): LoggedEvent {
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (typeof v === "string") flat[k.toLowerCase()] = v;
    else if (Array.isArray(v) && typeof v[0] === "string") flat[k.toLowerCase()] = v[0];
  let parsed: CloudEventV1<unknown> | CloudEventV1<unknown>[];
  try {
    parsed = HTTP.toEvent<unknown>({ headers: flat, body });
  } catch (err) {
    const detail = err instanceof SyntaxError ? "its data is not JSON" : (err as Error).message;
    throw new InvalidEventError(
      `not a CloudEvent (${detail}); send binary mode with ce-specversion, ce-id, ce-source and ce-type headers`,
    );
  }
  if (Array.isArray(parsed))
    throw new InvalidEventError("batched CloudEvents are not accepted: one event per request");
  const id = text(parsed.id);
  if (!id || id.length > MAX_EVENT_ID || !isStorable(id))
    throw new InvalidEventError(`ce-id: expected 1 to ${MAX_EVENT_ID} characters`);
  const type = text(parsed.type) ?? "";
  const half = (EVENT_TYPES as Record<string, Half>)[type];
  if (!half)
    throw new InvalidEventError(
      `ce-type: '${type.slice(0, 100)}' is not a logged inference (expected one of: ${Object.keys(EVENT_TYPES).join(", ")})`,
    );
  const source = text(parsed.source);
  if (!source) throw new InvalidEventError("ce-source: required");
  const service = text(parsed.inferenceservicename);
  if (!service)
    throw new InvalidEventError("ce-inferenceservicename: required (the InferenceService's name)");
  // The SDK fills in "now" for an event without a time, so the sender's own is read here.
  const sent = (flat["content-type"] ?? "").startsWith("application/cloudevents+json")
    ? (JSON.parse(body) as { time?: unknown }).time
    : flat["ce-time"];
  let time: Date | null = null;
  if (sent !== undefined) {
    time = typeof sent === "string" && RFC3339.test(sent) ? new Date(sent) : null;
    if (!time || Number.isNaN(time.getTime())) throw new InvalidEventError("ce-time: not an RFC 3339 time");
  }
  if (parsed.data === undefined) throw new InvalidEventError("the event has no data");
  return {
    id,
    half,
    service,
    namespace: text(parsed.namespace),
    source,
    time,
    data: json(parsed.data),
  };
}
