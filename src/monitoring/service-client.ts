import type { ModelServiceClient, ServiceResponse } from "./ports.js";

async function call(url: string, init: RequestInit, timeoutMs: number): Promise<ServiceResponse> {
  const started = performance.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body, latencyMs: performance.now() - started };
}

/** The ModelServiceClient over fetch, with a timeout per call. */
export const fetchModelServiceClient: ModelServiceClient = {
  get: (url, timeoutMs) => call(url, { method: "GET" }, timeoutMs),
  post: (url, body, timeoutMs) =>
    call(
      url,
      { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
      timeoutMs,
    ),
};
