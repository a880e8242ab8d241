import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RegistryConfig } from "../../src/config/index.js";
import { describeVersion, moveAlias, readChampion } from "../../src/retraining/registry.js";
import { type FakeMlflow, startFakeMlflow } from "../helpers/fake-mlflow.js";

const TOKEN = "mlflow-test-token-0123456789";
let mlflow: FakeMlflow;
let cfg: RegistryConfig;

beforeAll(async () => {
  mlflow = await startFakeMlflow({ model: "fraud", token: TOKEN });
  cfg = {
    type: "mlflow",
    url: mlflow.url,
    token: TOKEN,
    model_name: "fraud",
    champion_alias: "champion",
    trained_by_tag: "mlflow.user",
    timeout: 2_000,
  };
  mlflow.addVersion(
    { version: "1", run_id: "run-1" },
    { run_id: "run-1", experiment_id: "7", user_id: "ana", metrics: { f1: 0.8 } },
  );
  mlflow.addVersion(
    { version: "2", run_id: "run-2", tags: { "mlflow.user": "bea" } },
    {
      run_id: "run-2",
      experiment_id: "7",
      user_id: "ci-bot",
      metrics: { f1: 0.84, auc: 0.91 },
      tags: { "mlflow.user": "ci-bot" },
    },
  );
  mlflow.addVersion({ version: "3", run_link: "https://ml.example/runs/3", user_id: "cem" });
  mlflow.setAlias("champion", "1");
});
afterAll(async () => {
  await mlflow?.close();
});

describe("the MLflow registry client against a fake of the REST API 2.0", () => {
  it("describes a version with its run's metrics, its run page, and who trained it from the version's mlflow.user tag", async () => {
    const out = await describeVersion(cfg, "2");
    expect(out).toEqual({
      ok: true,
      result: {
        registry: {
          modelName: "fraud",
          version: "2",
          status: "READY",
          source: "models:/m-2",
          runId: "run-2",
          runUrl: `${mlflow.url}/#/experiments/7/runs/run-2`,
          trainedBy: "bea",
          metrics: { f1: 0.84, auc: 0.91 },
        },
      },
    });
    const sent = mlflow.requests.filter((r) => r.path === "/api/2.0/mlflow/model-versions/get").at(-1);
    expect(sent?.query).toEqual({ name: "fraud", version: "2" });
    expect(sent?.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("without the tag, 'trained by' falls back to the run's user; a version without a run keeps its run_link and user", async () => {
    const one = await describeVersion(cfg, "1");
    expect(one.ok && (one.result.registry as { trainedBy: string }).trainedBy).toBe("ana");
    const three = await describeVersion(cfg, "3");
    expect(three.ok && three.result.registry).toMatchObject({
      runUrl: "https://ml.example/runs/3",
      trainedBy: "cem",
      metrics: {},
    });
  });

  it("a version the registry does not have is RESOURCE_DOES_NOT_EXIST (404), not retried, and the newest versions are named", async () => {
    const out = await describeVersion(cfg, "9");
    expect(out).toMatchObject({ ok: false, retry: false });
    expect(!out.ok && out.error).toContain("HTTP 404 RESOURCE_DOES_NOT_EXIST");
    expect(!out.ok && out.error).toContain("(its newest versions: 3, 2, 1)");
    const search = mlflow.requests.filter((r) => r.path === "/api/2.0/mlflow/model-versions/search").at(-1);
    expect(search?.query).toEqual({
      filter: "name='fraud'",
      max_results: "5",
      order_by: "version_number DESC",
    });
  });

  it("a bad token (401) or one without rights (403) is not retried, and the token never shows in the error", async () => {
    for (const [token, status] of [
      [undefined, 401],
      ["wrong-token", 403],
    ] as const) {
      const out = await readChampion({ ...cfg, ...(token ? { token } : { token: undefined }) });
      expect(out).toMatchObject({ ok: false, retry: false });
      expect(!out.ok && out.error).toContain(`HTTP ${status}`);
      expect(!out.ok && out.error).toContain("check the registry token");
      expect(!out.ok && out.error).not.toContain(TOKEN);
    }
  });

  it("an outage (503), throttling (429) or an unreachable server is retried", async () => {
    mlflow.failNext("GET", "/api/2.0/mlflow/registered-models/alias", 503);
    expect(await readChampion(cfg)).toMatchObject({ ok: false, retry: true });
    mlflow.failNext("GET", "/api/2.0/mlflow/registered-models/alias", 429);
    const throttled = await readChampion(cfg);
    expect(throttled).toMatchObject({ ok: false, retry: true });
    expect(!throttled.ok && throttled.error).toContain("REQUEST_LIMIT_EXCEEDED");
    const down = await readChampion({ ...cfg, url: "http://127.0.0.1:9" });
    expect(down).toMatchObject({ ok: false, retry: true });
    expect(await readChampion(cfg)).toEqual({ ok: true, result: { alias: "champion", aliasVersion: "1" } });
  });

  it("an unset alias (MLflow's 400 INVALID_PARAMETER_VALUE 'alias … not found') reads as no champion", async () => {
    expect(await readChampion({ ...cfg, champion_alias: "prod" })).toEqual({
      ok: true,
      result: { alias: "prod", aliasVersion: null },
    });
  });

  it("moves the alias only from the version the bot expects; a repeat is done already; elsewhere is a conflict left alone", async () => {
    const writes = () => mlflow.aliasWrites().length;
    const before = writes();
    expect(await moveAlias(cfg, { from: "1", to: "2" })).toMatchObject({ ok: true });
    expect(mlflow.alias("champion")).toBe("2");
    expect(mlflow.aliasWrites().at(-1)?.body).toEqual({ name: "fraud", alias: "champion", version: "2" });
    // A retry after a lost answer finds the alias moved and writes nothing.
    expect(await moveAlias(cfg, { from: "1", to: "2" })).toMatchObject({
      ok: true,
      result: { unchanged: true },
    });
    expect(writes()).toBe(before + 1);
    // Someone moved it by hand: the bot does not overwrite it.
    mlflow.setAlias("champion", "3");
    const conflict = await moveAlias(cfg, { from: "2", to: "1" });
    expect(conflict).toMatchObject({ ok: false, retry: false });
    expect(!conflict.ok && conflict.error).toContain("points at 3, not 2");
    expect(mlflow.alias("champion")).toBe("3");
    expect(writes()).toBe(before + 1);
    mlflow.setAlias("champion", "1");
  });
});
