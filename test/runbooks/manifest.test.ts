import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/index.js";
import { loadRunbooks, resolveParams, suggestFor } from "../../src/runbooks/index.js";
import { demoConfig } from "../helpers/bot.js";
import { freePort, ROOT, spawnBot, spawnNode } from "../helpers/process.js";
import { runbooksDir } from "./fixture.js";

const broken = runbooksDir({
  "bad-one": {
    "runbook.yaml": `name: bad-one
title: Broken
description: Has a typo in a key and a bad timeout.
when: { models: [fraud-detector] }
run: [node, missing.mjs]
timeout: forever
confrim: true
`,
  },
});
const folders: string[] = [];
afterAll(() => {
  broken.remove();
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

describe("runbook manifests", () => {
  it("the shipped runbooks are valid, each with a verify step, and match the demo model's incidents", () => {
    const list = loadRunbooks(join(ROOT, "runbooks"), demoConfig());
    expect(list.map((r) => r.name)).toEqual([
      "clear-feature-cache",
      "rerun-data-quality",
      "restart-service",
      "rollback-model",
    ]);
    for (const r of list) expect(r.verify, r.name).toBeDefined();
    const incident = { model: "fraud-detector", severity: "warning", subject: "country" };
    expect(suggestFor(list, { ...incident, monitor: "data_quality" })).toEqual([
      "clear-feature-cache",
      "rerun-data-quality",
    ]);
    expect(suggestFor(list, { ...incident, monitor: "probe" })).toEqual([
      "restart-service",
      "rollback-model",
    ]);
    expect(suggestFor(list, { ...incident, model: "other", monitor: "probe" })).toEqual([]);
  });

  it("an invalid manifest fails the load naming the file and each bad key", () => {
    let error: unknown;
    try {
      loadRunbooks(broken.dir, demoConfig());
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    expect(problems).toContain("bad-one/runbook.yaml: confrim: unknown key 'confrim'");
    expect(problems).toMatch(/bad-one\/runbook\.yaml: timeout: expected a duration/);
  });

  it("parameters: defaults from the manifest and the model, types and patterns checked, unknown keys refused", () => {
    const specs = {
      url: {
        type: "string" as const,
        from_model: "service_url" as const,
        pattern: "https?://.+",
        max_length: 200,
        required: true,
      },
      count: { type: "integer" as const, min: 1, max: 5, default: 2, required: true },
      mode: { type: "enum" as const, values: ["soft", "hard"], default: "soft", required: true },
    };
    expect(resolveParams(specs, {}, { service_url: "http://svc" })).toEqual({
      ok: true,
      values: { url: "http://svc", count: 2, mode: "soft" },
    });
    expect(resolveParams(specs, { url: "file:///etc", count: "9", mode: "x", extra: "1" }, {})).toEqual({
      ok: false,
      problems: {
        url: "does not match https?://.+",
        count: "more than 5",
        mode: "expected one of soft, hard",
        extra: "not a parameter of this runbook",
      },
    });
    expect(resolveParams(specs, { url: "http://a\nb" }, {})).toMatchObject({ ok: false });
  });

  it("npm run runbook:check exits non-zero on an invalid manifest, naming the file and key, and 0 on the shipped ones", async () => {
    const bad = spawnNode(["--import", "tsx", "scripts/runbook-check.ts", broken.dir], {});
    const badExit = await bad.exited;
    expect(badExit.code).toBe(78);
    expect(bad.output()).toContain("runbook.yaml: confrim: unknown key 'confrim'");
    const good = spawnNode(["--import", "tsx", "scripts/runbook-check.ts"], {});
    expect((await good.exited).code).toBe(0);
    expect(good.output()).toContain("4 runbooks valid");
  });

  it("the bot refuses to start with an invalid manifest (exit 78 before listening), naming the file and key", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mlops-rb-start-"));
    folders.push(dataDir);
    const port = await freePort();
    const bot = spawnBot({
      PORT: String(port),
      HOST: "127.0.0.1",
      MLOPS_DATA_DIR: dataDir,
      MLOPS_RUNBOOKS_DIR: broken.dir,
    });
    const exit = await bot.exited;
    expect(exit.code).toBe(78);
    expect(bot.output()).toContain("confrim: unknown key 'confrim'");
    expect(bot.output()).not.toContain("mlops-bot is listening");
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
