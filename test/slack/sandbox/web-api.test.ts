import { WebAPIPlatformError, WebClient } from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Fixture, rejectionOf, startFixture, TOKEN } from "./sandbox-fixture.js";

function platformError(error: unknown): string {
  expect(error).toBeInstanceOf(WebAPIPlatformError);
  return (error as WebAPIPlatformError).data.error;
}

describe("sandbox Web API", () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await startFixture();
  });
  afterEach(async () => {
    await fx.server.close();
  });

  it("auth.test answers with the sandbox team and bot identity", async () => {
    const result = await fx.client.auth.test();
    expect(result).toMatchObject({
      ok: true,
      team_id: "T0SANDBOX",
      user_id: "U0MLOPSBOT",
      bot_id: "B0MLOPSBOT",
    });
  });

  it("chat.postMessage to #name stores the message and returns the channel id, ts and message", async () => {
    const result = await fx.client.chat.postMessage({ channel: "#ml-alerts", text: "drift on churn-v3" });
    expect(result).toMatchObject({
      ok: true,
      channel: "C0ALERTS",
      message: { text: "drift on churn-v3", bot_id: "B0MLOPSBOT" },
    });
    expect(result.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(fx.server.workspace.messages("ml-alerts").map((m) => m.text)).toEqual(["drift on churn-v3"]);
  });

  it("chat.postMessage to a user id opens the DM and posts there", async () => {
    const result = await fx.client.chat.postMessage({ channel: "U0ALICE", text: "you are on call" });
    expect(result.channel).toMatch(/^D/);
    expect(fx.server.workspace.channel(result.channel ?? "")?.members).toEqual(["U0ALICE"]);
  });

  it("thread replies come back in posting order and are counted on the parent", async () => {
    const parent = await fx.client.chat.postMessage({ channel: "C0ALERTS", text: "incident" });
    const parentTs = parent.ts ?? "";
    for (const text of ["one", "two", "three"]) {
      await fx.client.chat.postMessage({ channel: "C0ALERTS", thread_ts: parentTs, text });
    }
    const thread = fx.server.workspace.thread("C0ALERTS", parentTs);
    expect(thread.map((m) => m.text)).toEqual(["incident", "one", "two", "three"]);
    expect([...thread.map((m) => m.ts)].sort()).toEqual(thread.map((m) => m.ts));
    expect(thread[0]).toMatchObject({ reply_count: 3, thread_ts: parentTs, latest_reply: thread[3]?.ts });
    expect(fx.server.workspace.messages("C0ALERTS")).toHaveLength(1);
  });

  it("a reply_broadcast reply also shows in the channel history", async () => {
    const parent = await fx.client.chat.postMessage({ channel: "C0ALERTS", text: "incident" });
    await fx.client.chat.postMessage({
      channel: "C0ALERTS",
      thread_ts: parent.ts ?? "",
      text: "resolved",
      reply_broadcast: true,
    });
    expect(fx.server.workspace.messages("C0ALERTS").map((m) => m.text)).toEqual(["incident", "resolved"]);
  });

  it("chat.postMessage into an unknown thread fails with thread_not_found", async () => {
    const error = await rejectionOf(
      fx.client.chat.postMessage({ channel: "C0ALERTS", thread_ts: "1.000001", text: "x" }),
    );
    expect(platformError(error)).toBe("thread_not_found");
  });

  it("chat.update edits the message in place and counts the edit", async () => {
    const posted = await fx.client.chat.postMessage({ channel: "C0ALERTS", text: "firing" });
    const ts = posted.ts ?? "";
    await fx.client.chat.update({ channel: "C0ALERTS", ts, text: "acknowledged" });
    const updated = await fx.client.chat.update({ channel: "C0ALERTS", ts, text: "resolved" });
    expect(updated).toMatchObject({ ok: true, ts, text: "resolved" });
    expect(fx.server.workspace.message("C0ALERTS", ts)).toMatchObject({ text: "resolved", edits: 2 });
    expect(fx.server.workspace.messages("C0ALERTS")).toHaveLength(1);
  });

  it("chat.update on an unknown ts fails with message_not_found", async () => {
    const error = await rejectionOf(
      fx.client.chat.update({ channel: "C0ALERTS", ts: "1700000000.000001", text: "x" }),
    );
    expect(platformError(error)).toBe("message_not_found");
  });

  it("chat.postEphemeral shows the message to one user only and returns message_ts", async () => {
    const result = await fx.client.chat.postEphemeral({
      channel: "C0ALERTS",
      user: "U0BOB",
      text: "only you",
    });
    expect(result.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(fx.server.workspace.ephemerals("U0BOB")).toMatchObject([
      { channel: "C0ALERTS", text: "only you", source: "api" },
    ]);
    expect(fx.server.workspace.ephemerals("U0ALICE")).toEqual([]);
    expect(fx.server.workspace.messages("C0ALERTS")).toEqual([]);
  });

  it("chat.postEphemeral for an unknown user fails with user_not_found", async () => {
    const error = await rejectionOf(
      fx.client.chat.postEphemeral({ channel: "C0ALERTS", user: "U0NOBODY", text: "x" }),
    );
    expect(platformError(error)).toBe("user_not_found");
  });

  it("reactions.add records the reaction and a second identical one fails with already_reacted", async () => {
    const posted = await fx.client.chat.postMessage({ channel: "C0ALERTS", text: "firing" });
    const args = { channel: "C0ALERTS", timestamp: posted.ts ?? "", name: "eyes" };
    await fx.client.reactions.add(args);
    expect(fx.server.workspace.message("C0ALERTS", args.timestamp)?.reactions).toEqual([
      { name: "eyes", users: ["U0MLOPSBOT"] },
    ]);
    expect(platformError(await rejectionOf(fx.client.reactions.add(args)))).toBe("already_reacted");
  });

  it("usergroups.list includes member ids only when include_users is set", async () => {
    const without = await fx.client.usergroups.list();
    expect(without.usergroups).toEqual([expect.objectContaining({ id: "S0ONCALL", handle: "ml-oncall" })]);
    expect(without.usergroups?.[0]?.users).toBeUndefined();
    const withUsers = await fx.client.usergroups.list({ include_users: true });
    expect(withUsers.usergroups?.[0]?.users).toEqual(["U0ALICE", "U0BOB"]);
  });

  it("usergroups.users.list returns members, and fails with no_such_subteam for an unknown group", async () => {
    expect((await fx.client.usergroups.users.list({ usergroup: "S0ONCALL" })).users).toEqual([
      "U0ALICE",
      "U0BOB",
    ]);
    const error = await rejectionOf(fx.client.usergroups.users.list({ usergroup: "S0MISSING" }));
    expect(platformError(error)).toBe("no_such_subteam");
  });

  it("usergroups.users.update replaces the members, and refuses no users, unknown users and unknown groups", async () => {
    for (const [args, error] of [
      [{ usergroup: "S0ONCALL", users: "" }, "no_users_provided"],
      [{ usergroup: "S0ONCALL", users: "U0ALICE,U0NOBODY" }, "invalid_users"],
      [{ usergroup: "S0MISSING", users: "U0ALICE" }, "no_such_subteam"],
    ] as const)
      expect(platformError(await rejectionOf(fx.client.usergroups.users.update(args)))).toBe(error);
    expect((await fx.client.usergroups.users.list({ usergroup: "S0ONCALL" })).users).toEqual([
      "U0ALICE",
      "U0BOB",
    ]);
    const res = await fx.client.usergroups.users.update({ usergroup: "S0ONCALL", users: "U0BOB" });
    expect(res.usergroup?.users).toEqual(["U0BOB"]);
    expect((await fx.client.usergroups.users.list({ usergroup: "S0ONCALL" })).users).toEqual(["U0BOB"]);
    await fx.client.usergroups.users.update({ usergroup: "S0ONCALL", users: "U0ALICE,U0BOB" });
  });

  it("conversations.open returns the same DM channel every time", async () => {
    const first = await fx.client.conversations.open({ users: "U0ALICE" });
    const second = await fx.client.conversations.open({ users: "U0ALICE" });
    expect(first.channel?.id).toMatch(/^D/);
    expect(second.channel?.id).toBe(first.channel?.id);
    expect(second.already_open).toBe(true);
  });

  it("users.info returns name, real_name and tz, and user_not_found for strangers", async () => {
    const result = await fx.client.users.info({ user: "U0ALICE" });
    expect(result.user).toMatchObject({
      id: "U0ALICE",
      name: "alice",
      real_name: "Alice Doe",
      tz: "Europe/Berlin",
    });
    expect(platformError(await rejectionOf(fx.client.users.info({ user: "U0NOBODY" })))).toBe(
      "user_not_found",
    );
  });

  it("an unknown method fails with unknown_method", async () => {
    expect(platformError(await rejectionOf(fx.client.apiCall("chat.teleport", {})))).toBe("unknown_method");
  });

  it("a wrong token fails with invalid_auth", async () => {
    const stranger = new WebClient("xoxb-wrong", {
      slackApiUrl: fx.server.apiUrl,
      retryConfig: { retries: 0 },
    });
    expect(platformError(await rejectionOf(stranger.auth.test()))).toBe("invalid_auth");
  });

  it("a request without any token fails with not_authed", async () => {
    const response = await fetch(`${fx.server.apiUrl}auth.test`, { method: "POST" });
    expect(await response.json()).toEqual({ ok: false, error: "not_authed" });
  });

  it("JSON bodies are accepted like form bodies", async () => {
    const response = await fetch(`${fx.server.apiUrl}chat.postMessage`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({
        channel: "ml-ops",
        blocks: [{ type: "section", text: { type: "mrkdwn", text: "*hi*" } }],
      }),
    });
    expect(await response.json()).toMatchObject({ ok: true, message: { blocks: [{ type: "section" }] } });
  });

  it("a message without text or blocks fails with no_text", async () => {
    expect(
      platformError(await rejectionOf(fx.client.chat.postMessage({ channel: "C0ALERTS" } as never))),
    ).toBe("no_text");
  });

  it("a message to an unknown channel fails with channel_not_found", async () => {
    expect(
      platformError(await rejectionOf(fx.client.chat.postMessage({ channel: "#nowhere", text: "x" }))),
    ).toBe("channel_not_found");
  });

  it("text over 40,000 characters fails with msg_too_long", async () => {
    const error = await rejectionOf(
      fx.client.chat.postMessage({ channel: "C0ALERTS", text: "x".repeat(40_001) }),
    );
    expect(platformError(error)).toBe("msg_too_long");
    await expect(
      fx.client.chat.postMessage({ channel: "C0ALERTS", text: "x".repeat(40_000) }),
    ).resolves.toMatchObject({ ok: true });
  });

  it("every call lands in the request log with its method, args and status", async () => {
    await fx.client.chat.postMessage({ channel: "C0ALERTS", text: "hello" });
    await rejectionOf(fx.client.users.info({ user: "U0NOBODY" }));
    const log = fx.server.workspace.requests();
    expect(log.map((entry) => [entry.method, entry.status])).toEqual([
      ["chat.postMessage", 200],
      ["users.info", 200],
    ]);
    expect(log[0]?.args).toMatchObject({ channel: "C0ALERTS", text: "hello" });
    expect(log[0]?.args).not.toHaveProperty("token");
    expect(log[1]?.response).toEqual({ ok: false, error: "user_not_found" });
  });
});
