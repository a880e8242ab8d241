import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Tokens look like `mlops_` + 40 hex characters (160 random bits). */
export const TOKEN_PREFIX = "mlops_";

/** A new random token, shown once to whoever creates it. */
export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(20).toString("hex")}`;
}

/**
 * SHA-256 of a token. Tokens are long and random, so a fast hash is enough: there is nothing to
 * brute-force from the digest, and lookups by digest stay one index probe.
 */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Constant-time equality of two tokens (by their digests, so lengths never leak). */
export function tokensEqual(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(hashToken(a), "hex"), Buffer.from(hashToken(b), "hex"));
}

/** A token name: what it is for, e.g. `fraud-pipeline`. */
export const TOKEN_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** The name MLOPS_API_TOKEN's caller goes by; no stored token may take it. */
export const BOOTSTRAP_NAME = "bootstrap";

/** Names of runbook runs' own tokens (`runbook-run-<id>`), reserved like `bootstrap`. */
export const RUN_TOKEN_PREFIX = "runbook-run-";

/**
 * What a token may do. A token made without scopes may do everything (tokens made before scopes
 * existed keep working); one with scopes only what they name. `calendar` reads the schedules'
 * iCalendar feeds only, and is the one scope a token may hold to be sent in a feed's address.
 */
export const TOKEN_SCOPES = ["ingest", "alerts", "pipeline", "read", "admin", "calendar"] as const;

/** One scope. */
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** True when a token holding `scopes` may act in `needed`. */
export function allows(scopes: readonly string[], needed: TokenScope): boolean {
  return scopes.length === 0 || scopes.includes(needed);
}
