/** Process liveness: the rule that frees the claims of a process that died. */

/** A process that misses this many heartbeats is dead: its claims are free. */
export const MISSED_BEATS = 2;

/** Rows of processes dead for longer than this are deleted (their claims were freed long ago). */
export const PRUNE_AFTER_MS = 24 * 3_600_000;

/** What a claim-holding component needs to know about its process. */
export interface ProcessIdentity {
  /** `<host>:<pid>:<random>`, written into every claim this process takes. */
  id: string;
  /** How often the process beats; claims of one silent for `MISSED_BEATS` of these are free. */
  heartbeatMs: number;
}
