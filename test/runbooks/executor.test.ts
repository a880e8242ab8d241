import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { childProcessRunner, expandArgv, resolveParams } from "../../src/runbooks/index.js";

const dir = mkdtempSync(join(tmpdir(), "mlops-exec-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}

/** True while `pid` runs; a zombie (killed, not yet reaped by whoever inherited it) counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

const base = { cwd: dir, stdin: "", killGraceMs: 300, maxOutputBytes: 64 * 1024, timeoutMs: 10_000 };

describe("the child-process runner", () => {
  it("hostile parameter values reach the script as literal strings and nothing else runs", async () => {
    const marker = join(dir, `pwned-${process.pid}`);
    const hostile = {
      semicolon: "x; rm -rf / #",
      subshell: `$(touch ${marker})`,
      backticks: `\`touch ${marker}\``,
    };
    const specs = Object.fromEntries(
      Object.keys(hostile).map((k) => [
        k,
        { type: "string" as const, max_length: 200, required: true, overridable: false },
      ]),
    );
    const params = resolveParams(specs, hostile, {});
    if (!params.ok) throw new Error(JSON.stringify(params.problems));
    const echo = script(
      "echo.mjs",
      "process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('MLOPS_PARAM_'))) }))",
    );
    const argv = expandArgv(["node", echo, "{semicolon}", "{subshell}", "--b={backticks}"], params.values);
    const result = await childProcessRunner.run({
      ...base,
      argv: [process.execPath, ...argv.slice(1)],
      env: {
        PATH: process.env.PATH ?? "",
        MLOPS_PARAM_SEMICOLON: hostile.semicolon,
        MLOPS_PARAM_SUBSHELL: hostile.subshell,
        MLOPS_PARAM_BACKTICKS: hostile.backticks,
      },
    });
    expect(result.exitCode).toBe(0);
    const seen = JSON.parse(result.output) as { argv: string[]; env: Record<string, string> };
    expect(seen.argv).toEqual([hostile.semicolon, hostile.subshell, `--b=${hostile.backticks}`]);
    expect(seen.env).toEqual({
      MLOPS_PARAM_SEMICOLON: hostile.semicolon,
      MLOPS_PARAM_SUBSHELL: hostile.subshell,
      MLOPS_PARAM_BACKTICKS: hostile.backticks,
    });
    expect(existsSync(marker)).toBe(false);
  });

  it("a program that outlives its timeout is killed together with the children it started", async () => {
    const pidFile = join(dir, "pids.json");
    const sleeper = script(
      "sleeper.mjs",
      `import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
// A child that ignores SIGTERM, so only the SIGKILL of the whole group ends it.
const child = spawn(process.execPath, ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: "ignore" });
writeFileSync(${JSON.stringify(pidFile)}, JSON.stringify([process.pid, child.pid]));
console.log("started", child.pid);
setInterval(() => {}, 1000);`,
    );
    const started = Date.now();
    const result = await childProcessRunner.run({
      ...base,
      argv: [process.execPath, sleeper],
      env: { PATH: process.env.PATH ?? "" },
      timeoutMs: 800,
    });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
    expect(Date.now() - started).toBeLessThan(5000);
    const pids = JSON.parse(readFileSync(pidFile, "utf8")) as number[];
    expect(pids).toHaveLength(2);
    // The grandchild ignored SIGTERM: it must have been SIGKILLed with its group.
    await new Promise((r) => setTimeout(r, 100));
    for (const pid of pids) expect(alive(pid), `process ${pid} is still alive`).toBe(false);
  });

  it("children left behind by a program that exits normally are killed too", async () => {
    const pidFile = join(dir, "left.json");
    const leaver = script(
      "leaver.mjs",
      `import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
child.unref();
writeFileSync(${JSON.stringify(pidFile)}, JSON.stringify(child.pid));`,
    );
    const result = await childProcessRunner.run({ ...base, argv: [process.execPath, leaver], env: {} });
    expect(result.exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(JSON.parse(readFileSync(pidFile, "utf8")) as number)).toBe(false);
  });

  it("the environment is exactly what was given: the bot's secrets are not inherited", async () => {
    process.env.MLOPS_TEST_SECRET = "do-not-leak";
    try {
      const result = await childProcessRunner.run({
        ...base,
        argv: [
          process.execPath,
          "-e",
          "process.stdout.write(JSON.stringify(Object.keys(process.env).sort()))",
        ],
        env: { PATH: "/usr/bin:/bin", ONLY_THIS: "1" },
      });
      expect(JSON.parse(result.output)).toEqual(["ONLY_THIS", "PATH"]);
    } finally {
      delete process.env.MLOPS_TEST_SECRET;
    }
  });

  it("long output keeps its head and tail and counts what was left out", async () => {
    const result = await childProcessRunner.run({
      ...base,
      maxOutputBytes: 1000,
      argv: [
        process.execPath,
        "-e",
        "process.stdout.write('HEAD' + 'x'.repeat(100000) + 'TAIL'); process.stderr.write('ERR'); process.exitCode = 3",
      ],
      env: {},
    });
    expect(result.exitCode).toBe(3);
    expect(result.output.startsWith("HEAD")).toBe(true);
    expect(result.output).toContain("ERR");
    expect(result.omittedBytes).toBe(100000 + 8 + 3 - 1000);
    expect(result.output).toContain(`[… ${result.omittedBytes} bytes left out …]`);
    expect(result.output.length).toBeLessThan(1100);
  });

  it("a program that does not exist is a failed run with the reason, not a crash", async () => {
    const result = await childProcessRunner.run({ ...base, argv: [join(dir, "missing")], env: {} });
    expect(result.exitCode).toBeNull();
    expect(result.output).toMatch(/could not start: .*ENOENT/);
  });
});
