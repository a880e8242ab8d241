import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RetrainingConfig } from "../../src/config/index.js";
import type {
  AdapterClient,
  AdapterOutcome,
  AdapterRequest,
  RetrainingDeps,
} from "../../src/retraining/index.js";
import type { AdapterCall } from "../../src/retraining/model.js";
import { performCall } from "../../src/retraining/perform.js";
import { demoConfig } from "../helpers/bot.js";
import { type FakeMlflow, startFakeMlflow } from "../helpers/fake-mlflow.js";

const TOKEN = "mlflow-perform-token-0123456789";
let mlflow: FakeMlflow;
let deploys: AdapterRequest[];
let deployAnswers: AdapterOutcome[];

/** Deps with the demo model's deploy adapter answered by `deployAnswers`, in order. */
function depsFor(): RetrainingDeps {
  const config = demoConfig();
  const model = config.models[0] as { retraining?: RetrainingConfig };
  model.retraining = {
    ...(model.retraining as RetrainingConfig),
    deploy: {
      type: "webhook",
      url: "http://127.0.0.1:9/deploy",
      secret: "0123456789abcdef0123",
      timeout: 1_000,
    },
    registry: {
      type: "mlflow",
      url: mlflow.url,
      token: TOKEN,
      model_name: "fraud",
      champion_alias: "champion",
      trained_by_tag: "mlflow.user",
      timeout: 1_000,
    },
  };
  const adapters: AdapterClient = {
    async call(_adapter, request) {
      deploys.push(request);
      return deployAnswers.shift() ?? { ok: true, result: { status: 202 } };
    },
  };
  return { config, adapters } as unknown as RetrainingDeps;
}

function call(over: Partial<AdapterCall>): AdapterCall {
  return {
    id: 41,
    kind: "promote",
    model: "fraud-detector",
    retrainRequestId: null,
    candidateId: 7,
    payload: { action: "promote", champion_version: "1", challenger_version: "2", challenger_share: 1 },
    state: "calling",
    attempts: 1,
    maxAttempts: 5,
    availableAt: new Date(),
    leaseUntil: null,
    lastError: null,
    result: null,
    createdAt: new Date(),
    doneAt: null,
    ...over,
  };
}

beforeAll(async () => {
  mlflow = await startFakeMlflow({ model: "fraud", token: TOKEN });
  for (const version of ["1", "2"]) mlflow.addVersion({ version });
});
afterAll(async () => {
  await mlflow?.close();
});

describe("a promote / roll back call of a model with a registry", () => {
  it("moves the alias first; a deploy that fails keeps that step, and the retry only deploys", async () => {
    mlflow.setAlias("champion", "1");
    deploys = [];
    deployAnswers = [{ ok: false, retry: true, error: "HTTP 503" }];
    const deps = depsFor();
    const first = await performCall(deps, call({}), {});
    expect(first).toMatchObject({ ok: false, retry: true, progress: { alias: { from: "1", to: "2" } } });
    expect(mlflow.alias("champion")).toBe("2");
    const writes = mlflow.aliasWrites().length;
    const second = await performCall(
      deps,
      call({ attempts: 2, result: { progress: (first as { progress: Record<string, unknown> }).progress } }),
      {},
    );
    expect(second).toMatchObject({ ok: true, result: { registry: { alias: "champion", to: "2" } } });
    expect(mlflow.aliasWrites()).toHaveLength(writes);
    expect(deploys.map((d) => d.id)).toEqual([41, 41]);
  });

  it("a deploy that fails for good moves the alias back, so the registry and the bot still agree", async () => {
    mlflow.setAlias("champion", "1");
    deploys = [];
    deployAnswers = [{ ok: false, retry: false, error: "HTTP 400: bad split" }];
    const out = await performCall(depsFor(), call({}), {});
    expect(out).toMatchObject({ ok: false, retry: false });
    expect(!out.ok && out.error).toContain("the registry's alias was moved back to 1");
    expect(mlflow.alias("champion")).toBe("1");
  });

  it("the last attempt's retryable deploy failure counts as for good too", async () => {
    mlflow.setAlias("champion", "1");
    deploys = [];
    deployAnswers = [{ ok: false, retry: true, error: "timed out" }];
    const out = await performCall(depsFor(), call({ attempts: 5 }), {});
    expect(out).toMatchObject({ ok: false, retry: false });
    expect(mlflow.alias("champion")).toBe("1");
  });

  it("an alias moved by hand stops the promote before any traffic moves", async () => {
    mlflow.setAlias("champion", "2");
    deploys = [];
    const out = await performCall(
      depsFor(),
      call({ payload: { action: "promote", champion_version: "1", challenger_version: "3" } }),
      {},
    );
    expect(out).toMatchObject({ ok: false, retry: false });
    expect(!out.ok && out.error).toContain("points at 2, not 1");
    expect(deploys).toHaveLength(0);
    expect(mlflow.alias("champion")).toBe("2");
  });

  it("a canary's roll back leaves the alias alone (it never moved); one after promotion moves it back", async () => {
    mlflow.setAlias("champion", "2");
    deploys = [];
    const rollback = {
      action: "rollback",
      champion_version: "1",
      challenger_version: "2",
      challenger_share: 0,
    };
    const writes = mlflow.aliasWrites().length;
    expect(await performCall(depsFor(), call({ kind: "rollback", payload: rollback }), {})).toMatchObject({
      ok: true,
    });
    expect(mlflow.aliasWrites()).toHaveLength(writes);
    const after = await performCall(
      depsFor(),
      call({ kind: "rollback", payload: { ...rollback, after_promotion: true } }),
      {},
    );
    expect(after).toMatchObject({ ok: true, result: { registry: { from: "2", to: "1" } } });
    expect(mlflow.alias("champion")).toBe("1");
    expect(deploys).toHaveLength(2);
  });
});
