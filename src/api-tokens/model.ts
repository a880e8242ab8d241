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
