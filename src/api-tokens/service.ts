import type { Db } from "../db/index.js";
import type { Clock } from "../shared/clock.js";
import {
  BOOTSTRAP_NAME,
  generateToken,
  hashToken,
  RUN_TOKEN_PREFIX,
  TOKEN_NAME,
  TOKEN_SCOPES,
  type TokenScope,
  tokensEqual,
} from "./model.js";
import { createApiTokenRepository } from "./repository.js";

/** Thrown for a bad token name, a name already taken, or an unknown scope. */
export class ApiTokenError extends Error {
  constructor(
    readonly code: "invalid_name" | "name_taken" | "not_found" | "invalid_scope",
    message: string,
  ) {
    super(message);
  }
}

/** Who presented a valid token. */
export interface ApiCaller {
  tokenName: string;
  /** The stored token's id; absent for the bootstrap token (MLOPS_API_TOKEN). */
  tokenId?: number;
  /** What it may do; empty means everything. */
  scopes: readonly string[];
}

/** How often `last_used_at` is written: uses are collected in memory and written together. */
export const LAST_USED_FLUSH_MS = 5_000;

/** Creating, revoking and checking API tokens; `bootstrapToken` is MLOPS_API_TOKEN. */
export function createApiTokenService(
  db: Db,
  clock: Clock,
  bootstrapToken?: string,
  opts: { flushEveryMs?: number } = {},
) {
  const repo = createApiTokenRepository(db);
  const flushEveryMs = opts.flushEveryMs ?? LAST_USED_FLUSH_MS;
  // Token id → when last used, not yet written. Verifying a token never waits on a write.
  const pending = new Map<number, Date>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!pending.size) return flushing;
    const uses = [...pending].map(([id, at]) => ({ id, at }));
    pending.clear();
    // One write at a time; a failed write only loses "last used" times, never a request.
    flushing = flushing.then(() => repo.touchMany(uses)).catch(() => {});
    return flushing;
  }

  function used(id: number): void {
    pending.set(id, clock.now());
    if (!timer) {
      timer = setTimeout(() => void flush(), flushEveryMs);
      timer.unref();
    }
  }

  return {
    /** Makes a token; the plain value is returned once and never stored. */
    async create(name: string, scopes: readonly string[] = []): Promise<string> {
      if (!TOKEN_NAME.test(name)) {
        throw new ApiTokenError(
          "invalid_name",
          "a token name is a lowercase slug like fraud-pipeline (a-z, 0-9, . _ -)",
        );
      }
      if (name === BOOTSTRAP_NAME)
        throw new ApiTokenError("invalid_name", `the name ${BOOTSTRAP_NAME} is reserved for MLOPS_API_TOKEN`);
      if (name.startsWith(RUN_TOKEN_PREFIX))
        throw new ApiTokenError(
          "invalid_name",
          `names starting ${RUN_TOKEN_PREFIX} are reserved for runbook runs' own tokens`,
        );
      const unknown = scopes.filter((s) => !(TOKEN_SCOPES as readonly string[]).includes(s));
      if (unknown.length)
        throw new ApiTokenError(
          "invalid_scope",
          `unknown scope ${unknown.join(", ")} (expected ${TOKEN_SCOPES.join(", ")})`,
        );
      const token = generateToken();
      const row = await repo.insert({
        name,
        tokenHash: hashToken(token),
        prefix: token.slice(0, 10),
        scopes: [...new Set(scopes)].sort(),
      });
      if (!row)
        throw new ApiTokenError(
          "name_taken",
          `an active token called ${name} exists already (revoke it first)`,
        );
      return token;
    },
    async revoke(name: string): Promise<void> {
      if (!(await repo.revoke(name, clock.now())))
        throw new ApiTokenError("not_found", `no active token called ${name}`);
    },
    list: () => repo.list(),
    /** The caller behind `token`, or null. */
    async verify(token: string): Promise<ApiCaller | null> {
      if (bootstrapToken && tokensEqual(token, bootstrapToken))
        return { tokenName: BOOTSTRAP_NAME, scopes: [] };
      const row = await repo.findActiveByHash(hashToken(token));
      if (!row) return null;
      used(row.id);
      return { tokenName: row.name, tokenId: row.id, scopes: row.scopes };
    },
    /** The caller a session was made for, while its token is still active; null once revoked. */
    async callerOf(session: { tokenId?: number; tokenName: string }): Promise<ApiCaller | null> {
      if (session.tokenId === undefined)
        return session.tokenName === BOOTSTRAP_NAME && bootstrapToken
          ? { tokenName: BOOTSTRAP_NAME, scopes: [] }
          : null;
      const row = await repo.findActiveById(session.tokenId);
      return row ? { tokenName: row.name, tokenId: row.id, scopes: row.scopes } : null;
    },
    /** Writes the collected `last_used_at` times now. */
    flush,
    /** Stops the flush timer after a last write (shutdown). */
    async close(): Promise<void> {
      await flush();
    },
  };
}

/** The API token service. */
export type ApiTokenService = ReturnType<typeof createApiTokenService>;

export type { TokenScope };
