import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { killGroup } from "../shared/process-group.js";
import type { CommandRunner, Execution, ExecutionResult } from "./ports.js";

/** Keeps the first and last `half` bytes of a stream and counts what falls between. */
export class HeadTailBuffer {
  #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #omitted = 0;
  constructor(readonly half: number) {}

  push(chunk: Buffer): void {
    let rest = chunk;
    if (this.#headBytes < this.half) {
      const take = rest.subarray(0, this.half - this.#headBytes);
      this.#head.push(take);
      this.#headBytes += take.length;
      rest = rest.subarray(take.length);
    }
    if (!rest.length) return;
    this.#tail.push(rest);
    this.#tailBytes += rest.length;
    while (this.#tailBytes > this.half) {
      const first = this.#tail[0] as Buffer;
      const over = this.#tailBytes - this.half;
      if (first.length <= over) {
        this.#tail.shift();
        this.#tailBytes -= first.length;
        this.#omitted += first.length;
      } else {
        this.#tail[0] = first.subarray(over);
        this.#tailBytes -= over;
        this.#omitted += over;
      }
    }
  }

  /** The kept text, with a marker where bytes were left out, and how many were. */
  result(): { text: string; omitted: number } {
    const head = Buffer.concat(this.#head).toString("utf8");
    const tail = Buffer.concat(this.#tail).toString("utf8");
    if (!this.#omitted) return { text: head + tail, omitted: 0 };
    return { text: `${head}\n[… ${this.#omitted} bytes left out …]\n${tail}`, omitted: this.#omitted };
  }
}

/**
 * Runs a program without a shell, in its own process group, with exactly the environment given,
 * the context on stdin, stdout and stderr captured together (head and tail kept up to the cap).
 * On timeout or abort the whole group gets SIGTERM and, after `killGraceMs`, SIGKILL; once the
 * program exits, anything it left behind in its group is killed too, so no process outlives a run.
 */
export const childProcessRunner: CommandRunner = {
  run(exec: Execution): Promise<ExecutionResult> {
    const started = performance.now();
    const output = new HeadTailBuffer(Math.floor(exec.maxOutputBytes / 2));
    return new Promise((resolve) => {
      let timedOut = false;
      let aborted = false;
      let spawnError: string | undefined;
      const child = spawn(exec.argv[0] as string, exec.argv.slice(1), {
        cwd: exec.cwd,
        env: exec.env,
        shell: false,
        detached: true,
        stdio: ["pipe", "pipe", "pipe"],
        windowsHide: true,
      });
      if (child.pid) exec.onSpawn?.(child.pid);
      const timers: NodeJS.Timeout[] = [];
      const terminate = () => {
        if (!child.pid) return;
        killGroup(child.pid, "SIGTERM");
        const pid = child.pid;
        timers.push(setTimeout(() => killGroup(pid, "SIGKILL"), exec.killGraceMs));
      };
      timers.push(
        setTimeout(() => {
          timedOut = true;
          terminate();
        }, exec.timeoutMs),
      );
      const onAbort = () => {
        aborted = true;
        terminate();
      };
      exec.signal?.addEventListener("abort", onAbort, { once: true });
      if (exec.signal?.aborted) onAbort();
      child.stdout.on("data", (d: Buffer) => output.push(d));
      child.stderr.on("data", (d: Buffer) => output.push(d));
      child.stdin.on("error", () => {}); // the program may exit without reading its stdin
      child.stdin.end(exec.stdin);
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        for (const t of timers) clearTimeout(t);
        exec.signal?.removeEventListener("abort", onAbort);
        const { text, omitted } = output.result();
        resolve({
          exitCode: exit?.code ?? null,
          signal: exit?.signal ?? null,
          timedOut,
          aborted,
          output: spawnError ? `${text}${text ? "\n" : ""}could not start: ${spawnError}` : text,
          omittedBytes: omitted,
          durationMs: Math.round(performance.now() - started),
        });
      };
      child.once("error", (err) => {
        spawnError = err.message;
        finish();
      });
      child.once("exit", (code, signal) => {
        exit = { code, signal };
        // Children the program started and left running die with it; their pipes then close.
        if (child.pid) killGroup(child.pid, "SIGKILL");
        // A grandchild that left the group could hold the pipes open: do not wait for it forever.
        timers.push(setTimeout(finish, 1000));
      });
      child.once("close", finish);
    });
  },
  endOrphan(pid: number, marker: string): boolean {
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, "utf8");
    } catch {
      return false; // gone, not ours to read, or no /proc: never signal what cannot be identified
    }
    if (!environ.split("\0").includes(marker)) return false;
    killGroup(pid, "SIGKILL");
    return true;
  },
};
