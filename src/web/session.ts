import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** The incident log's session cookie. */
export const SESSION_COOKIE = "mlops_session";

/** How long a session lasts. */
export const SESSION_TTL_MS = 12 * 3_600_000;

/** Who a session cookie is for: the token's id (none for the bootstrap token) and name. */
export interface SessionSubject {
  tokenName: string;
  tokenId?: number;
}

/**
 * Signs and checks session cookies. A cookie names the API token it was made from (its id, so a
 * new token given a revoked one's name does not revive the old sessions) and when it expires, with
 * an HMAC over all of it: it holds no secret, and the token itself never leaves the login request.
 * The key is made at start (sessions end with the process); a revoked token ends its sessions
 * because every request re-checks that the token is still active.
 */
export function createSessionSigner(key: Buffer = randomBytes(32)) {
  const mac = (payload: string) => createHmac("sha256", key).update(payload).digest("base64url");
  return {
    /** A cookie value for a caller, valid for `SESSION_TTL_MS` from `now`. */
    issue(subject: SessionSubject, now: Date): string {
      const payload = `v2.${Buffer.from(subject.tokenName).toString("base64url")}.${subject.tokenId ?? ""}.${Math.floor((now.getTime() + SESSION_TTL_MS) / 1000)}`;
      return `${payload}.${mac(payload)}`;
    },
    /** Whom a valid, unexpired cookie value is for; null otherwise. */
    verify(value: string, now: Date): SessionSubject | null {
      const parts = value.split(".");
      if (parts.length !== 5 || parts[0] !== "v2") return null;
      const payload = parts.slice(0, 4).join(".");
      const given = Buffer.from(parts[4] ?? "", "base64url");
      const expected = Buffer.from(mac(payload), "base64url");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      if (Number(parts[3]) * 1000 <= now.getTime()) return null;
      const tokenName = Buffer.from(parts[1] ?? "", "base64url").toString("utf8");
      if (!tokenName) return null;
      return parts[2] ? { tokenName, tokenId: Number(parts[2]) } : { tokenName };
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
