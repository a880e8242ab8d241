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
const unsafe = runbooksDir({
  "leaky-one": {
    "runbook.yaml": `name: leaky-one
title: Wants the bot's secrets
description: Asks for every credential of the bot and points its URL anywhere.
params:
  target: { type: string, from_model: service_url }
  anything: { type: string, overridable: true }
  elsewhere: { type: url, allowed_origins: ["https://ok.example", "http://169.254.169.254/latest"] }
run: [node, -e, "1"]
env: [SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, DATABASE_URL, MLOPS_API_TOKEN, HTTPS_PROXY]
`,
  },
});
const folders: string[] = [];
afterAll(() => {
  broken.remove();
  unsafe.remove();
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
        type: "url" as const,
        from_model: "service_url" as const,
        overridable: true,
        allowed_origins: [],
        max_length: 200,
        required: true,
      },
      count: { type: "integer" as const, min: 1, max: 5, default: 2, required: true, overridable: false },
      mode: {
        type: "enum" as const,
        values: ["soft", "hard"],
        default: "soft",
        required: true,
        overridable: false,
      },
    };
    expect(resolveParams(specs, {}, { service_url: "http://svc" })).toEqual({
      ok: true,
      values: { url: "http://svc", count: 2, mode: "soft" },
    });
    expect(resolveParams(specs, { url: "file:///etc", count: "9", mode: "x", extra: "1" }, {})).toEqual({
      ok: false,
      problems: {
        url: "expected an http(s) URL (no user or password in it)",
        count: "more than 5",
        mode: "expected one of soft, hard",
        extra: "not a parameter of this runbook",
      },
    });
    expect(resolveParams(specs, { url: "http://a\nb" }, {})).toMatchObject({ ok: false });
  });

  it("no manifest can pass the bot's credentials to a script, take the service URL as a plain string, or allowlist a path", () => {
    let error: unknown;
    try {
      loadRunbooks(unsafe.dir, demoConfig());
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.filter((p) => p.includes("leaky-one"));
    const file = "leaky-one/runbook.yaml";
    for (const [i, name] of [
      "SLACK_BOT_TOKEN",
      "SLACK_SIGNING_SECRET",
      "SLACK_APP_TOKEN",
      "DATABASE_URL",
      "MLOPS_API_TOKEN",
    ].entries())
      expect(problems.join("\n")).toContain(
        `${file}: env[${i}]: ${name} is one of the bot's credentials and is never passed to a script`,
      );
    expect(problems.join("\n")).toContain("declare api_token to give each run a token of its own");
    expect(problems.join("\n")).not.toContain("HTTPS_PROXY");
    expect(problems.join("\n")).toContain(
      `${file}: params.target.type: a parameter taken from the model's service_url must be of type url`,
    );
    expect(problems.join("\n")).toContain(
      `${file}: params.anything.overridable: only a parameter taken from the model (from_model) can be overridable`,
    );
    expect(problems.join("\n")).toMatch(
      /leaky-one\/runbook\.yaml: params\.elsewhere\.allowed_origins\[1\]: expected an origin/,
    );
    expect(problems).toHaveLength(8);
  });

  it("a parameter from the model is fixed unless overridable, and a URL must point at the model's service or an allowed origin", () => {
    const model = { service_url: "http://svc.internal:8080", slug: "fraud-detector" };
    const fixed = {
      service_url: {
        type: "url" as const,
        from_model: "service_url" as const,
        overridable: false,
        allowed_origins: [],
        max_length: 500,
        required: true,
      },
    };
    expect(resolveParams(fixed, {}, model)).toEqual({
      ok: true,
      values: { service_url: "http://svc.internal:8080" },
    });
    // Giving the model's own value again is fine (a confirm dialog may send it back).
    expect(resolveParams(fixed, { service_url: "http://svc.internal:8080" }, model)).toMatchObject({
      ok: true,
    });
    expect(resolveParams(fixed, { service_url: "http://169.254.169.254/latest/meta-data" }, model)).toEqual({
      ok: false,
      problems: {
        service_url:
          "fixed to the model's service_url (http://svc.internal:8080); this runbook does not let it be changed",
      },
    });
    expect(resolveParams(fixed, { service_url: "http://svc.internal:8080/other" }, model)).toMatchObject({
      ok: false,
    });
    // Fixed also to a model that has no service_url: it cannot be typed in instead.
    expect(resolveParams(fixed, { service_url: "http://svc.internal:8080" }, {})).toEqual({
      ok: false,
      problems: {
        service_url: "taken from the model's service_url, which is not configured; it cannot be given",
      },
    });

    const open = {
      target: { ...fixed.service_url, overridable: true, allowed_origins: ["https://backup.internal"] },
    };
    const check = (target: string, serviceUrl: Partial<typeof model> = model) =>
      resolveParams(open, { target }, serviceUrl);
    expect(check("http://svc.internal:8080/admin/v2")).toEqual({
      ok: true,
      values: { target: "http://svc.internal:8080/admin/v2" },
    });
    expect(check("https://backup.internal/x")).toMatchObject({ ok: true });
    expect(check("http://169.254.169.254/latest/meta-data")).toEqual({
      ok: false,
      problems: {
        target:
          "http://169.254.169.254 is not allowed: it must point at http://svc.internal:8080 or https://backup.internal",
      },
    });
    expect(check("http://svc.internal:8081/")).toMatchObject({ ok: false }); // another port, another origin
    expect(check("https://svc.internal:8080/")).toMatchObject({ ok: false }); // another scheme
    expect(check("http://user:pw@svc.internal:8080/")).toEqual({
      ok: false,
      problems: { target: "expected an http(s) URL (no user or password in it)" },
    });
    expect(check("file:///etc/passwd")).toMatchObject({ ok: false });
    // A URL another parser would read differently (curl sees host 169.254.169.254 here) is refused.
    expect(check("http://svc.internal:8080\\@169.254.169.254/")).toEqual({
      ok: false,
      problems: { target: "write the URL in its plain form (http://svc.internal:8080/@169.254.169.254/)" },
    });
    expect(check("http://0xA9.254.169.254/")).toMatchObject({ ok: false });
    // Without the model's service_url, only the manifest's origins remain; without those, nothing.
    expect(check("https://backup.internal/", {})).toMatchObject({ ok: true });
    expect(
      resolveParams({ target: { ...open.target, allowed_origins: [] } }, { target: "http://svc/" }, {}),
    ).toEqual({
      ok: false,
      problems: {
        target:
          "http://svc is not allowed: the model has no service_url and the runbook lists no allowed_origins",
      },
    });
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
