import { LogLevel, WebClient } from "@slack/web-api";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { registerSandbox, SandboxWorkspace } from "../../../src/slack/sandbox/index.js";
import { SEED, TOKEN } from "./sandbox-fixture.js";

describe("registerSandbox inside another fastify app", () => {
  const host = Fastify({ logger: false });
  afterEach(async () => {
    await host.close();
  });

  it("serves the Web API under a prefix without changing how the host parses form bodies", async () => {
    const workspace = new SandboxWorkspace(SEED);
    registerSandbox(host, { workspace, token: TOKEN, prefix: "/sandbox" });
    host.post("/echo", async (request) => ({ type: typeof request.body }));
    await host.listen({ host: "127.0.0.1", port: 0 });
    const address = host.server.address();
    const base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;

    const client = new WebClient(TOKEN, {
      slackApiUrl: `${base}/sandbox/api/`,
      retryConfig: { retries: 0 },
      logLevel: LogLevel.ERROR,
    });
    await client.chat.postMessage({ channel: "ml-alerts", text: "mounted" });
    expect(workspace.messages("ml-alerts").map((m) => m.text)).toEqual(["mounted"]);

    const reserved = await client.files.getUploadURLExternal({ filename: "a.txt", length: 1 });
    expect(reserved.upload_url).toBe(`${base}/sandbox/upload/${reserved.file_id}`);

    const echo = await fetch(`${base}/echo`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "a=1",
    });
    expect(echo.status).toBe(415);
  });
});
