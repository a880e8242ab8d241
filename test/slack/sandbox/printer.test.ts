import { describe, expect, it } from "vitest";
import { attachTerminalPrinter, SandboxWorkspace } from "../../../src/slack/sandbox/index.js";
import { SEED } from "./sandbox-fixture.js";

function printed(): { ws: SandboxWorkspace; output: () => string } {
  const ws = new SandboxWorkspace(SEED);
  let text = "";
  attachTerminalPrinter(ws, (chunk) => {
    text += chunk;
  });
  return { ws, output: () => text };
}

describe("attachTerminalPrinter", () => {
  it("prints a block message with channel, header in caps, fields, context, styled buttons and readable mentions", () => {
    const { ws, output } = printed();
    ws.postMessage({
      channel: "ml-alerts",
      text: "fallback",
      blocks: [
        { type: "header", text: { type: "plain_text", text: "Drift alert" } },
        {
          type: "section",
          text: { type: "mrkdwn", text: "<!subteam^S0ONCALL> <@U0ALICE> see <#C0ALERTS>" },
          fields: [{ type: "mrkdwn", text: "*PSI* 0.4" }],
        },
        {
          type: "context",
          elements: [
            { type: "mrkdwn", text: "model churn-v3" },
            { type: "plain_text", text: "prod" },
          ],
        },
        {
          type: "actions",
          elements: [
            { type: "button", action_id: "a", text: { type: "plain_text", text: "Ack" } },
            {
              type: "button",
              action_id: "b",
              style: "danger",
              text: { type: "plain_text", text: "Rollback" },
            },
            {
              type: "button",
              action_id: "c",
              style: "primary",
              text: { type: "plain_text", text: "Retrain" },
            },
          ],
        },
      ],
    });
    const text = output();
    expect(text).toContain("#ml-alerts  @mlops:");
    expect(text).toContain("*DRIFT ALERT*");
    expect(text).toContain("@ml-oncall @alice see #ml-alerts");
    expect(text).toContain("• *PSI* 0.4");
    expect(text).toContain("model churn-v3 · prod");
    expect(text).toContain("[Ack] [!Rollback] [*Retrain]");
    expect(text).not.toContain("fallback");
  });

  it("marks thread replies with ↳ thread <ts> and prints edits, ephemerals, views and files", () => {
    const { ws, output } = printed();
    const root = ws.postMessage({ channel: "ml-alerts", text: "incident &amp; more" });
    ws.postMessage({ channel: "ml-alerts", text: "first reply", thread_ts: root.ts });
    ws.updateMessage("ml-alerts", root.ts, { text: "incident resolved" });
    ws.postEphemeral({ channel: "ml-alerts", user: "U0BOB", text: "only bob" });
    ws.openView("U0BOB", { type: "modal", title: { type: "plain_text", text: "Retrain" }, blocks: [] });
    const file = ws.reserveFile("drift.csv", 3);
    ws.receiveFileBytes(file.id, Buffer.from("a,b"));
    ws.completeUpload({ files: [{ id: file.id, title: "Drift" }], channel: "C0ALERTS", thread_ts: root.ts });
    const text = output();
    expect(text).toContain("incident & more");
    expect(text).toContain(`#ml-alerts ↳ thread ${root.ts}  @mlops:`);
    expect(text).toContain("edited (edit 1)");
    expect(text).toContain("(only visible to @bob, via api)");
    expect(text).toMatch(/\[modal V\S+ opened for @bob\] Retrain/);
    expect(text).toContain(`#ml-alerts ↳ thread ${root.ts}  [file ${file.id}] "Drift" (drift.csv, 3 bytes)`);
  });

  it("stops printing once detached", () => {
    const ws = new SandboxWorkspace(SEED);
    let text = "";
    const detach = attachTerminalPrinter(ws, (chunk) => {
      text += chunk;
    });
    detach();
    ws.postMessage({ channel: "ml-alerts", text: "silent" });
    expect(text).toBe("");
  });
});
