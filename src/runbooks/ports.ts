import type { Db } from "../db/index.js";
import type { Incident } from "../incidents/index.js";
import type { Runbook, RunbookRun } from "./model.js";

/** One program to run. */
export interface Execution {
  /** Program and arguments; never passed through a shell. */
  argv: string[];
  cwd: string;
  /** The complete environment of the child (nothing is inherited). */
  env: Record<string, string>;
  stdin: string;
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** Output kept (head and tail halves). */
  maxOutputBytes: number;
  /** Aborting it kills the run (shutdown). */
  signal?: AbortSignal;
  /** Told the program's pid (the leader of its process group) once it started. */
  onSpawn?: (pid: number) => void;
}

/** What came of it. */
export interface ExecutionResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  output: string;
  omittedBytes: number;
  durationMs: number;
}

/** Runs child processes; the shipped one is `childProcessRunner`. */
export interface CommandRunner {
  run(exec: Execution): Promise<ExecutionResult>;
  /**
   * Ends the process group `pid` leads if it still is the run's program (its environment holds
   * `marker`, so a reused pid is never hit); true when it was ended.
   */
  endOrphan(pid: number, marker: string): boolean;
}

/** Where a run's messages go: an incident's thread or the channel it was started in. */
export interface RunPlace {
  channel: string;
  /** The incident whose thread it is, if any. */
  incident: Incident | null;
}

/**
 * The runbooks' Slack writes, queued in the caller's transaction (the outbox). Each returns the
 * outbox row id that will deliver it.
 */
export interface RunbookNotifier {
  /** The progress message ("running…"), in the incident's thread or the channel. */
  postProgress(
    tx: Db,
    place: RunPlace,
    runbook: Pick<Runbook, "name" | "title"> | undefined,
    run: RunbookRun,
  ): Promise<number>;
  /** Re-renders the progress message in place with the run's current state. */
  updateProgress(tx: Db, place: RunPlace, runbook: Runbook | undefined, run: RunbookRun): Promise<number>;
  /** The full output as a file in the same thread when it is too long for the message; null otherwise. */
  uploadOutput(tx: Db, place: RunPlace, run: RunbookRun): Promise<number | null>;
  /** A reply in the thread (or channel). */
  reply(tx: Db, place: RunPlace, text: string): Promise<number>;
  /** An ephemeral to one person. */
  tell(tx: Db, to: { channel: string; user: string }, text: string): Promise<number>;
  /** After commit: deliver now. */
  wake(): void;
}
