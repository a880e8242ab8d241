import { describe, expect, it, vi } from "vitest";
import { compareTs, type SandboxMessage, SandboxWorkspace } from "../../../src/slack/sandbox/index.js";
import { SEED } from "./sandbox-fixture.js";

describe("SandboxWorkspace", () => {
  it("generates ids for seeded channels and groups that have none, and finds channels by #name or name", () => {
    const ws = new SandboxWorkspace({
      users: [{ name: "carol" }],
      channels: [{ name: "#incidents" }],
      userGroups: [{ handle: "@sre", name: "SRE", users: [] }],
    });
    const channel = ws.channelByName("#incidents");
    expect(channel?.id).toMatch(/^C/);
    expect(ws.channelByName("incidents")).toBe(channel);
    expect(ws.resolveChannel(channel?.id ?? "")).toBe(channel);
    expect(ws.userByName("@carol")?.id).toMatch(/^U/);
    expect(ws.userGroupByHandle("sre")?.id).toMatch(/^S/);
    expect(ws.team).toEqual({ id: "T0SANDBOX", name: "MLOps Sandbox", domain: "mlops-sandbox" });
  });

  it("rejects a seed whose user group names an unknown user", () => {
    expect(
      () => new SandboxWorkspace({ userGroups: [{ handle: "x", name: "X", users: ["U0GHOST"] }] }),
    ).toThrow(/no user U0GHOST/);
  });

  it("issues strictly increasing, Slack-formatted ts values even within one frozen millisecond", () => {
    const ws = new SandboxWorkspace(SEED, { clock: () => 1_700_000_000_123 });
    const stamps = Array.from({ length: 5 }, () => ws.nextTs());
    expect(stamps[0]).toBe("1700000000.123000");
    expect(stamps[4]).toBe("1700000000.123004");
    expect(new Set(stamps).size).toBe(5);
    expect([...stamps].sort(compareTs)).toEqual(stamps);
  });

  it("keeps ts values increasing when the clock goes backwards", () => {
    let now = 1_700_000_001_000;
    const ws = new SandboxWorkspace(SEED, { clock: () => now });
    const first = ws.nextTs();
    now -= 5000;
    expect(compareTs(ws.nextTs(), first)).toBeGreaterThan(0);
  });

  it("a reply to a reply joins the root thread", () => {
    const ws = new SandboxWorkspace(SEED);
    const root = ws.postMessage({ channel: "ml-alerts", text: "root" });
    const reply = ws.postMessage({ channel: "ml-alerts", text: "reply", thread_ts: root.ts });
    const nested = ws.postMessage({ channel: "ml-alerts", text: "nested", thread_ts: reply.ts });
    expect(nested.thread_ts).toBe(root.ts);
    expect(ws.thread("C0ALERTS", reply.ts).map((m) => m.text)).toEqual(["root", "reply", "nested"]);
    expect(root.reply_count).toBe(2);
  });

  it("finds messages across channels and filters ephemerals by user", () => {
    const ws = new SandboxWorkspace(SEED);
    ws.postMessage({ channel: "ml-alerts", text: "a" });
    ws.postMessage({ channel: "ml-ops", text: "b", user: "U0ALICE" });
    ws.postEphemeral({ channel: "ml-ops", user: "U0BOB", text: "psst" });
    expect(ws.findMessage((m) => m.user === "U0ALICE")?.text).toBe("b");
    expect(ws.findMessages(() => true).map((m) => m.text)).toEqual(["a", "b"]);
    expect(ws.lastMessage()?.text).toBe("b");
    expect(ws.ephemerals("U0BOB").map((e) => e.text)).toEqual(["psst"]);
    expect(ws.ephemerals("U0ALICE")).toEqual([]);
  });

  it("emits message, update and ephemeral events in order, and stops after unsubscribing", () => {
    const ws = new SandboxWorkspace(SEED);
    const seen: string[] = [];
    const off = ws.on("message", (m: SandboxMessage) => seen.push(`message:${m.text}`));
    ws.on("update", (m) => seen.push(`update:${m.text}:${m.edits}`));
    ws.on("ephemeral", (e) => seen.push(`ephemeral:${e.text}`));
    const posted = ws.postMessage({ channel: "ml-alerts", text: "one" });
    ws.updateMessage("ml-alerts", posted.ts, { text: "two" });
    ws.postEphemeral({ channel: "ml-alerts", user: "U0ALICE", text: "hi" });
    off();
    ws.postMessage({ channel: "ml-alerts", text: "unheard" });
    expect(seen).toEqual(["message:one", "update:two:1", "ephemeral:hi"]);
  });

  it("a throwing listener is reported as a process warning and does not break posting", () => {
    const ws = new SandboxWorkspace(SEED);
    const emitWarning = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    try {
      ws.on("message", () => {
        throw new Error("printer broke");
      });
      expect(() => ws.postMessage({ channel: "ml-alerts", text: "still stored" })).not.toThrow();
      expect(ws.messages("ml-alerts")).toHaveLength(1);
      expect(emitWarning).toHaveBeenCalledWith(expect.stringContaining("printer broke"));
    } finally {
      emitWarning.mockRestore();
    }
  });

  it("opens the same DM for the same user and a group DM for several", () => {
    const ws = new SandboxWorkspace(SEED);
    const first = ws.openDm(["U0ALICE"]);
    expect(ws.openDm(["U0ALICE"])).toEqual({ channel: first.channel, alreadyOpen: true });
    expect(first.channel.id).toMatch(/^D/);
    expect(ws.openDm(["U0BOB", "U0ALICE"]).channel.id).toMatch(/^G/);
    expect(ws.channelLabel(first.channel.id)).toBe("@alice (DM)");
  });
});
