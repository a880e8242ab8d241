import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A held lock on an embedded data directory. */
export interface DataDirLock {
  release(): void;
}

/** Thrown when another live process already uses the embedded data directory. */
export class DataDirInUseError extends Error {
  readonly code = "data_dir_in_use";
  constructor(dir: string, pid: number) {
    super(
      `The embedded database in ${dir} is in use by process ${pid}. PGlite serves one process at a time: ` +
        "stop that process, choose another MLOPS_DATA_DIR, or set DATABASE_URL to share a Postgres server.",
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes `<dir>/mlops-bot.pid`. A lock whose process is gone (SIGKILL, crash, reboot) is stale and
 * taken over, so the next start after a kill recovers by itself.
 */
export function acquireDataDirLock(dir: string): DataDirLock {
  const file = join(dir, "mlops-bot.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: "wx" });
      return {
        release() {
          try {
            if (readFileSync(file, "utf8") === String(process.pid)) rmSync(file);
          } catch {
            // already gone: nothing to release
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number.parseInt(readFileSync(file, "utf8"), 10);
      if (Number.isFinite(pid) && pid !== process.pid && isAlive(pid)) throw new DataDirInUseError(dir, pid);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not take the lock file ${file}`);
}
