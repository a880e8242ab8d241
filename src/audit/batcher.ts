import type { Logger } from "../shared/logger.js";
import type { AuditEntry } from "./repository.js";

/** How long queued records may wait before they are written together. */
export const AUDIT_FLUSH_MS = 100;
const MAX_BATCH = 500;

/**
 * Collects audit records that need not delay the caller (the log of read-only commands) and writes
 * them in one multi-row insert per interval. A single insert per command on the ack path cost
 * several times a bare Bolt app's p99 ack latency; batched, the write leaves the ack path and
 * costs one statement per interval. What is queued is flushed on shutdown; a crash can lose at
 * most the last interval's records of commands that changed nothing.
 */
export function createAuditBatcher(
  write: (entries: AuditEntry[]) => Promise<void>,
  logger: Logger,
  flushMs = AUDIT_FLUSH_MS,
) {
  let queue: AuditEntry[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return writing;
    writing = writing
      .then(async () => {
        for (let i = 0; i < batch.length; i += MAX_BATCH) await write(batch.slice(i, i + MAX_BATCH));
      })
      .catch((err: unknown) => logger.error({ err, lost: batch.length }, "could not write audit records"));
    return writing;
  }

  return {
    /** Queues a record to be written within `flushMs`. */
    add(entry: AuditEntry): void {
      queue.push(entry);
      if (queue.length >= MAX_BATCH) void flush();
      else timer ??= setTimeout(flush, flushMs);
    },
    /** Writes everything queued so far; resolves when it is on file. */
    flush,
  };
}
