import { createApiTokenRepository, generateToken, hashToken, RUN_TOKEN_PREFIX } from "../api-tokens/index.js";
import type { Db } from "../db/index.js";
import type { RUN_TOKEN_SCOPES } from "./model.js";

/** The API token record of run `id`: one per run, so a run never holds the bootstrap token. */
export function runTokenName(runId: number): string {
  return `${RUN_TOKEN_PREFIX}${runId}`;
}

/**
 * Issues run `runId` its own API token in `tx` (with the run's row, so both commit or neither);
 * the plain value goes only into the run's environment and is never stored.
 */
export async function issueRunToken(
  tx: Db,
  runId: number,
  scopes: readonly (typeof RUN_TOKEN_SCOPES)[number][],
): Promise<string> {
  const token = generateToken();
  const row = await createApiTokenRepository(tx).insert({
    name: runTokenName(runId),
    tokenHash: hashToken(token),
    prefix: token.slice(0, 10),
    // Never empty (the manifest requires a scope): an empty list would mean full access.
    scopes: [...scopes],
  });
  if (!row) throw new Error(`an API token called ${runTokenName(runId)} exists already`);
  return token;
}

/** Revokes run `runId`'s token, if it had one (when the run is recorded as finished or interrupted). */
export async function revokeRunToken(tx: Db, runId: number, at: Date): Promise<void> {
  await createApiTokenRepository(tx).revoke(runTokenName(runId), at);
}
