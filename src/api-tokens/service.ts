import type { Db } from "../db/index.js";
import type { Clock } from "../shared/clock.js";
import { generateToken, hashToken, TOKEN_NAME, tokensEqual } from "./model.js";
import { createApiTokenRepository } from "./repository.js";

/** Thrown for a bad token name or a name already taken. */
export class ApiTokenError extends Error {
  constructor(
    readonly code: "invalid_name" | "name_taken" | "not_found",
    message: string,
  ) {
    super(message);
  }
}

/** Who presented a valid token. */
export interface ApiCaller {
  tokenName: string;
}

/** Creating, revoking and checking API tokens; `bootstrapToken` is MLOPS_API_TOKEN. */
export function createApiTokenService(db: Db, clock: Clock, bootstrapToken?: string) {
  const repo = createApiTokenRepository(db);
  return {
    /** Makes a token; the plain value is returned once and never stored. */
    async create(name: string): Promise<string> {
      if (!TOKEN_NAME.test(name)) {
        throw new ApiTokenError(
          "invalid_name",
          "a token name is a lowercase slug like fraud-pipeline (a-z, 0-9, . _ -)",
        );
      }
      const token = generateToken();
      const row = await repo.insert({ name, tokenHash: hashToken(token), prefix: token.slice(0, 10) });
      if (!row)
        throw new ApiTokenError("name_taken", `a token called ${name} exists already (revoke it first)`);
      return token;
    },
    async revoke(name: string): Promise<void> {
      if (!(await repo.revoke(name, clock.now())))
        throw new ApiTokenError("not_found", `no active token called ${name}`);
    },
    list: () => repo.list(),
    /** The caller behind `token`, or null. */
    async verify(token: string): Promise<ApiCaller | null> {
      if (bootstrapToken && tokensEqual(token, bootstrapToken)) return { tokenName: "bootstrap" };
      const row = await repo.findActiveByHash(hashToken(token));
      if (!row) return null;
      await repo.touch(row.id, clock.now());
      return { tokenName: row.name };
    },
  };
}

/** The API token service. */
export type ApiTokenService = ReturnType<typeof createApiTokenService>;
