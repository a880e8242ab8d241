import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of the CPU times in /proc. */
function ticks(): number {
  if (ticksPerSecond === undefined) {
    const out = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
    const n = Number(out.stdout?.trim());
    ticksPerSecond = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return ticksPerSecond;
}

/** Fields of /proc/<pid>/stat after the command name (index 0 is field 3, the state). */
function statFields(pid: number | string): { comm: string; rest: string[] } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const close = stat.lastIndexOf(")");
  return { comm: stat.slice(stat.indexOf("(") + 1, close), rest: stat.slice(close + 2).split(" ") };
}

/** utime + stime of a process (all its threads), in ms. */
export function processCpuMs(pid: number): number {
  const { rest } = statFields(pid);
  return ((Number(rest[11]) + Number(rest[12])) / ticks()) * 1000;
}

/**
 * CPU time (utime + stime, ms) of the live Postgres backends connected to `database`, recognised by
 * their process title (`postgres: … <user> <database> <client> …`). Only that database's backends:
 * other work on the same server (other people's tests) is not counted, nor are shared background
 * processes (WAL writer, checkpointer).
 */
export function postgresCpuMs(database: string): number {
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const { comm, rest } = statFields(entry);
      if (comm !== "postgres") continue;
      const title = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
      if (!title.includes(` ${database} `)) continue;
      total += Number(rest[11]) + Number(rest[12]);
    } catch {
      // gone meanwhile
    }
  }
  return (total / ticks()) * 1000;
}

/** Busy (not idle, not iowait) CPU time of the whole machine, all cores summed, in ms. */
export function machineBusyMs(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return ((total - (f[3] ?? 0) - (f[4] ?? 0)) / ticks()) * 1000;
}

/** Where the CPU went between `cpuWindow()` and `end(pid)`, for a process started at the beginning. */
export interface StartCpu {
  /** CPU the process itself used since it started, ms. */
  processMs: number;
  /** The rest of the machine's busy time, ms (Postgres, the harness, the kernel, other people's work). */
  otherMs: number;
  wallMs: number;
}

/** Opens a window; `end(pid)` closes it and attributes the machine's busy time. */
export function cpuWindow(): { end(pid: number): StartCpu } {
  const began = performance.now();
  const machine0 = machineBusyMs();
  return {
    end(pid) {
      const processMs = processCpuMs(pid);
      const machineMs = machineBusyMs() - machine0;
      return { processMs, otherMs: Math.max(0, machineMs - processMs), wallMs: performance.now() - began };
    },
  };
}
