import { createHmac, timingSafeEqual } from "node:crypto";

/** How far a request timestamp may be from now, either way, before it is refused. */
export const SIGNATURE_WINDOW_SECONDS = 5 * 60;

/** Why a Slack request signature was refused; stable codes for logs and metrics. */
export type SignatureFailure = "missing_headers" | "stale_timestamp" | "bad_signature";

/** Computes Slack's `v0=<hex>` signature over `v0:<timestamp>:<raw body>`. */
export function signSlackRequest(
  signingSecret: string,
  timestamp: number | string,
  rawBody: string | Buffer,
): string {
  const hmac = createHmac("sha256", signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(rawBody);
  return `v0=${hmac.digest("hex")}`;
}

/**
 * Checks a request against the signing secret. Returns null when valid, else the reason.
 *
 * The timestamp must lie within five minutes of `nowSeconds` in both directions (a far-future
 * stamp is as suspicious as an old one), and the comparison runs in constant time over equal-length
 * buffers so the signature cannot be guessed byte by byte from response timings.
 */
export function verifySlackSignature(args: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: string | Buffer;
  nowSeconds: number;
}): SignatureFailure | null {
  const { signingSecret, timestamp, signature, rawBody, nowSeconds } = args;
  if (!timestamp || !signature) return "missing_headers";
  if (!/^\d{1,12}$/.test(timestamp)) return "stale_timestamp";
  if (Math.abs(nowSeconds - Number(timestamp)) > SIGNATURE_WINDOW_SECONDS) return "stale_timestamp";
  const expected = Buffer.from(signSlackRequest(signingSecret, timestamp, rawBody), "utf8");
  const given = Buffer.from(signature, "utf8");
  if (given.length !== expected.length) return "bad_signature";
  return timingSafeEqual(given, expected) ? null : "bad_signature";
}
