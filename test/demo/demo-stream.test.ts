import { afterEach, describe, expect, it, vi } from "vitest";
import { createDemoTraffic, type DemoStatus } from "../../src/demo/demo-stream.js";

type Call = { path: string; rows: number; body: unknown };

function recorder(fail?: (path: string) => boolean) {
  const calls: Call[] = [];
  return {
    calls,
    post: async (path: "predictions" | "labels" | "reference", body: unknown) => {
      calls.push({ path, rows: Array.isArray(body) ? body.length : 0, body });
      if (fail?.(path)) throw new Error(`${path}: 400 {"error":"bad_request"}`);
      return {};
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("the in-process demo traffic", () => {
  it("backfills labelled history, sets it as the reference, fills the last hour, then streams", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const api = recorder();
    const seen: DemoStatus["state"][] = [];
    const demo = createDemoTraffic({ post: api.post, rate: 5, history: 100, seed: 1 });
    demo.onChange((s) => seen.push(s.state));
    await demo.start("none");
    expect(api.calls.map((c) => c.path)).toEqual([
      "predictions",
      "labels",
      "reference",
      "predictions",
      "labels",
    ]);
    expect(api.calls[0]?.rows).toBe(100);
    expect(api.calls[3]?.rows).toBe(3600);
    const reference = api.calls[2]?.body as { from: string; to: string };
    expect(Date.parse(reference.to) - Date.parse(reference.from)).toBe(49 * 3_600_000);
    expect(demo.status()).toMatchObject({ state: "streaming", fault: "none", sent: 3700 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(api.calls.at(-1)).toMatchObject({ path: "predictions", rows: 5 });
    await demo.stop();
    expect(seen).toEqual(expect.arrayContaining(["backfilling", "streaming", "idle"]));
    expect(demo.status().state).toBe("idle");
  });

  it("injecting drift sends a surge of drifted predictions at once; the stream then carries the fault", async () => {
    const api = recorder();
    const demo = createDemoTraffic({ post: api.post, rate: 5, history: 100, seed: 2, surge: 500 });
    await demo.start("none");
    const before = api.calls.length;
    await demo.inject("drift");
    const surge = api.calls[before];
    expect(surge).toMatchObject({ path: "predictions", rows: 500 });
    const rows = surge?.body as { ts: string; features: { amount: number } }[];
    const span = Date.parse(rows.at(-1)?.ts as string) - Date.parse(rows[0]?.ts as string);
    expect(span).toBeGreaterThan(590_000);
    expect(demo.status().fault).toBe("drift");
    await demo.shutdown();
  });

  it("a refused request stops the stream and says why", async () => {
    const api = recorder((path) => path === "reference");
    const demo = createDemoTraffic({ post: api.post, rate: 5, history: 10, seed: 3 });
    const status = await demo.start("none");
    expect(status).toMatchObject({ state: "failed", error: 'reference: 400 {"error":"bad_request"}' });
    await demo.shutdown();
  });
});
