import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** The incident log's session cookie. */
export const SESSION_COOKIE = "mlops_session";

/** How long a session lasts. */
export const SESSION_TTL_MS = 12 * 3_600_000;

/**
 * Signs and checks session cookies. A cookie names the API token it was made from and when it
 * expires, with an HMAC over both: it holds no secret, and the token itself never leaves the login
 * request. The key is made at start (sessions end with the process); a revoked token ends its
 * sessions because every request re-checks that the named token is still active.
 */
export function createSessionSigner(key: Buffer = randomBytes(32)) {
  const mac = (payload: string) => createHmac("sha256", key).update(payload).digest("base64url");
  return {
    /** A cookie value for a caller, valid for `SESSION_TTL_MS` from `now`. */
    issue(tokenName: string, now: Date): string {
      const payload = `v1.${Buffer.from(tokenName).toString("base64url")}.${Math.floor((now.getTime() + SESSION_TTL_MS) / 1000)}`;
      return `${payload}.${mac(payload)}`;
    },
    /** The token name in a valid, unexpired cookie value; null otherwise. */
    verify(value: string, now: Date): string | null {
      const parts = value.split(".");
      if (parts.length !== 4 || parts[0] !== "v1") return null;
      const payload = parts.slice(0, 3).join(".");
      const given = Buffer.from(parts[3] ?? "", "base64url");
      const expected = Buffer.from(mac(payload), "base64url");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      if (Number(parts[2]) * 1000 <= now.getTime()) return null;
      return Buffer.from(parts[1] ?? "", "base64url").toString("utf8") || null;
    },
  };
}

/** The session signer. */
export type SessionSigner = ReturnType<typeof createSessionSigner>;

/** The value of one cookie in a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
