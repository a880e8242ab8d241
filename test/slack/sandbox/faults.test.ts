import { WebAPIHTTPError, type WebAPIPlatformError, WebAPIRateLimitedError } from "@slack/web-api";
import { afterEach, describe, expect, it } from "vitest";
import { SandboxFaults } from "../../../src/slack/sandbox/index.js";
import { type Fixture, manualClock, rejectionOf, startFixture } from "./sandbox-fixture.js";

describe("sandbox faults over HTTP", () => {
  let fx: Fixture | undefined;
  afterEach(async () => {
    await fx?.server.close();
    fx = undefined;
  });

  it("a rate_limited fault surfaces as WebClient's rate-limit error carrying retryAfter, then clears after `times`", async () => {
    fx = await startFixture({ clientOptions: { rejectRateLimitedCalls: true } });
    fx.server.workspace.faults.add({
      method: "chat.postMessage",
      kind: "rate_limited",
      retryAfterSec: 7,
      times: 1,
    });
    const error = await rejectionOf(fx.client.chat.postMessage({ channel: "C0ALERTS", text: "x" }));
    expect(error).toBeInstanceOf(WebAPIRateLimitedError);
    expect((error as WebAPIRateLimitedError).retryAfter).toBe(7);
    await expect(fx.client.chat.postMessage({ channel: "C0ALERTS", text: "x" })).resolves.toMatchObject({
      ok: true,
    });
    expect(
      fx.server.workspace.requests("chat.postMessage").map((entry) => [entry.status, entry.fault]),
    ).toEqual([
      [429, "rate_limited"],
      [200, undefined],
    ]);
    expect(fx.server.workspace.messages("C0ALERTS")).toHaveLength(1);
  });

  it("an http_error fault surfaces as WebAPIHTTPError with its status", async () => {
    fx = await startFixture();
    fx.server.workspace.faults.add({ kind: "http_error", status: 503 });
    const error = await rejectionOf(fx.client.auth.test());
    expect(error).toBeInstanceOf(WebAPIHTTPError);
    expect((error as WebAPIHTTPError).statusCode).toBe(503);
  });

  it("an ok_false fault surfaces as a platform error with its code, before auth is even checked", async () => {
    fx = await startFixture();
    fx.server.workspace.faults.add({ method: "chat.*", kind: "ok_false", error: "fatal_error" });
    const error = await rejectionOf(fx.client.chat.postMessage({ channel: "C0ALERTS", text: "x" }));
    expect((error as WebAPIPlatformError).data.error).toBe("fatal_error");
    await expect(fx.client.users.info({ user: "U0ALICE" })).resolves.toMatchObject({ ok: true });
  });

  it("a slow fault delays the answer and then answers normally", async () => {
    fx = await startFixture();
    fx.server.workspace.faults.add({ method: "auth.test", kind: "slow", delayMs: 150, times: 1 });
    const started = Date.now();
    await expect(fx.client.auth.test()).resolves.toMatchObject({ ok: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("a fault with untilMs stops applying once the clock passes it", async () => {
    const clock = manualClock();
    fx = await startFixture({ clock: clock.now });
    fx.server.workspace.faults.add({ kind: "http_error", status: 500, untilMs: clock.now() + 1000 });
    expect(await rejectionOf(fx.client.auth.test())).toBeInstanceOf(WebAPIHTTPError);
    clock.advance(1000);
    await expect(fx.client.auth.test()).resolves.toMatchObject({ ok: true });
  });

  it("clearing the faults ends an outage", async () => {
    fx = await startFixture();
    fx.server.workspace.faults.add({ kind: "http_error", status: 503 });
    expect(await rejectionOf(fx.client.auth.test())).toBeInstanceOf(WebAPIHTTPError);
    fx.server.workspace.faults.clear();
    await expect(fx.client.auth.test()).resolves.toMatchObject({ ok: true });
  });
});

describe("SandboxFaults rules", () => {
  it("a rule without method hits Web API methods but not uploads or response_urls unless named", () => {
    const faults = new SandboxFaults(() => 0);
    faults.add({ kind: "http_error" });
    expect(faults.take("upload")).toBeNull();
    expect(faults.take("response_url")).toBeNull();
    expect(faults.take("chat.update")).toEqual({ kind: "http_error", status: 503 });
    faults.add({ method: "response_url", kind: "ok_false" });
    expect(faults.take("response_url")).toEqual({ kind: "ok_false", status: 200, error: "internal_error" });
  });

  it("the first live rule wins and is used up after `times` hits", () => {
    const faults = new SandboxFaults(() => 0);
    faults.add({ method: "chat.postMessage", kind: "rate_limited", times: 2 });
    faults.add({ kind: "http_error", status: 502 });
    expect(faults.take("chat.postMessage")?.kind).toBe("rate_limited");
    expect(faults.take("chat.postMessage")?.kind).toBe("rate_limited");
    expect(faults.take("chat.postMessage")).toEqual({ kind: "http_error", status: 502 });
    expect(faults.list()).toEqual([expect.objectContaining({ status: 502, hits: 1 })]);
  });

  it("a removed rule no longer applies", () => {
    const faults = new SandboxFaults(() => 0);
    const id = faults.add({ kind: "slow", delayMs: 5 });
    faults.remove(id);
    expect(faults.take("auth.test")).toBeNull();
  });
});
