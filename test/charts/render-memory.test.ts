import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Loads the renderer in a fresh process (the addon's allocator reads its options once, when it is
 * loaded), draws one chart, and returns what mimalloc said about its options on stderr and what
 * the process's environment held afterwards.
 */
function loadRenderer(env: Record<string, string>): { stderr: string; leftInEnv: string } {
  const script = [
    'const { renderPng } = await import("./src/charts/render.ts");',
    'const series = [{ name: "s", points: [{ t: 0, v: 1 }, { t: 60000, v: 2 }] }];',
    'renderPng({ kind: "line", title: "t", alt: "a", x: { label: "x" }, y: { label: "y" }, series });',
    'process.stdout.write(String(process.env.MIMALLOC_ARENA_PURGE_MULT ?? "unset"));',
  ].join("\n");
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", MIMALLOC_VERBOSE: "1", ...env },
    encoding: "utf8",
    shell: false,
    timeout: 30_000,
  });
  expect(child.status, child.stderr).toBe(0);
  return { stderr: child.stderr, leftInEnv: child.stdout };
}

describe("the renderer's native memory", () => {
  it("has resvg's allocator return freed segments at once, without leaving the setting to child processes", () => {
    const { stderr, leftInEnv } = loadRenderer({});
    expect(stderr).toMatch(/option 'arena_purge_mult': 0\b/);
    expect(leftInEnv).toBe("unset");
  });

  it("keeps the arena purge setting the operator chose", () => {
    const { stderr, leftInEnv } = loadRenderer({ MIMALLOC_ARENA_PURGE_MULT: "5" });
    expect(stderr).toMatch(/option 'arena_purge_mult': 5\b/);
    expect(leftInEnv).toBe("5");
  });
});
