import { describe, expect, it } from "vitest";
import { SandboxWorkspace } from "../../../../src/slack/sandbox/index.js";
import { blocksHtml } from "../../../../src/slack/sandbox/web/block-html.js";
import { channelHtml, modalHtml } from "../../../../src/slack/sandbox/web/fragments.js";
import { mrkdwnToHtml } from "../../../../src/slack/sandbox/web/mrkdwn-html.js";

function workspace() {
  return new SandboxWorkspace({
    users: [
      { id: "U0OLIVIA", name: "olivia", real_name: "Olivia Ops" },
      { id: "U0GUEST", name: "guest", real_name: "Gus <b>Guest</b>" },
    ],
    channels: [{ id: "C0ALERTS", name: "fraud-alerts" }],
    userGroups: [{ id: "S0ONCALL", handle: "mlops-oncall", name: "Ops", users: ["U0OLIVIA"] }],
  });
}

const mrkdwn = (text: string) => mrkdwnToHtml(text, workspace()).value;

describe("mrkdwn as HTML", () => {
  it("message text that looks like markup stays text, escaped or not by Slack", () => {
    expect(mrkdwn("<script>alert(1)</script>")).not.toContain("<script");
    expect(mrkdwn("&lt;img src=x onerror=alert(1)&gt;")).toBe("&lt;img src=x onerror=alert(1)&gt;");
    expect(mrkdwn("\"quoted\" & 'single'")).toBe("&quot;quoted&quot; &amp; &#39;single&#39;");
  });

  it("links only http(s) and mailto, and escapes their labels and addresses", () => {
    expect(mrkdwn("<javascript:alert(1)|click>")).toBe("click");
    expect(mrkdwn("<https://example.com/a?b=1&amp;c=2|the &lt;docs&gt;>")).toBe(
      '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">the &lt;docs&gt;</a>',
    );
    const attr = mrkdwn('<https://example.com/"onmouseover="alert(1)|x>');
    expect(attr).not.toContain('"onmouseover');
  });

  it("names people, groups and channels, and formats bold, italic, strike, code and emoji", () => {
    expect(mrkdwn("<@U0OLIVIA> <!subteam^S0ONCALL> <#C0ALERTS>")).toBe(
      '<span class="mention">@olivia</span> <span class="mention">@mlops-oncall</span> <span class="mention">#fraud-alerts</span>',
    );
    expect(mrkdwn("*INC-1* _now_ ~old~ `a<b` :rotating_light: snake_case_name")).toBe(
      "<strong>INC-1</strong> <em>now</em> <s>old</s> <code>a&lt;b</code> 🚨 snake_case_name",
    );
    expect(mrkdwn("```line <1>\nline 2```")).toBe("<pre>line &lt;1&gt;\nline 2</pre>");
    expect(mrkdwn("a\nb")).toBe("a<br>b");
  });
});

describe("Block Kit as HTML", () => {
  it("renders header, section with fields and accessory, context, divider, image and styled buttons", () => {
    const out = blocksHtml(
      [
        { type: "header", text: { type: "plain_text", text: "INC-7 <drift>" } },
        {
          type: "section",
          block_id: "s1",
          text: { type: "mrkdwn", text: "*Model*" },
          fields: [
            { type: "mrkdwn", text: "*State*\nopen" },
            { type: "plain_text", text: "a & b" },
          ],
          accessory: { type: "button", action_id: "more", text: { type: "plain_text", text: "More" } },
        },
        { type: "context", elements: [{ type: "mrkdwn", text: "fingerprint `abc`" }] },
        { type: "divider" },
        { type: "image", image_url: "javascript:alert(1)", alt_text: "evil" },
        { type: "image", image_url: "https://example.com/chart.png", alt_text: "chart" },
        {
          type: "actions",
          block_id: "acts",
          elements: [
            {
              type: "button",
              action_id: "ack",
              style: "primary",
              text: { type: "plain_text", text: "Acknowledge" },
            },
            {
              type: "button",
              action_id: "res",
              style: "danger",
              text: { type: "plain_text", text: "Resolve" },
            },
            { type: "button", action_id: "sil", style: "<x>", text: { type: "plain_text", text: "Silence" } },
          ],
        },
      ],
      workspace(),
    ).value;
    expect(out).toContain('<div class="bk-header">INC-7 &lt;drift&gt;</div>');
    expect(out).toContain('<div class="bk-field"><strong>State</strong><br>open</div>');
    expect(out).toContain('<div class="bk-field">a &amp; b</div>');
    expect(out).toContain('data-action-id="more" data-block-id="s1"');
    expect(out).toContain('class="bk-button primary" data-action-id="ack" data-block-id="acts"');
    expect(out).toContain('class="bk-button danger" data-action-id="res"');
    expect(out).toContain('class="bk-button default" data-action-id="sil"');
    expect(out).toContain('<hr class="bk-divider">');
    expect(out).not.toContain("javascript:");
    expect(out).toContain('src="https://example.com/chart.png"');
  });

  it("renders a modal's plain-text and select inputs named by action_id, with their initial values", () => {
    const ws = workspace();
    ws.openView("U0OLIVIA", {
      type: "modal",
      title: { type: "plain_text", text: "Resolve INC-1" },
      submit: { type: "plain_text", text: "Resolve" },
      blocks: [
        {
          type: "input",
          block_id: "note",
          label: { type: "plain_text", text: "What fixed it?" },
          element: {
            type: "plain_text_input",
            action_id: "note_text",
            multiline: true,
            initial_value: "</textarea><b>",
          },
        },
        {
          type: "input",
          block_id: "cause",
          label: { type: "plain_text", text: "Cause" },
          element: {
            type: "static_select",
            action_id: "cause_pick",
            initial_option: { text: { type: "plain_text", text: "Data" }, value: "data" },
            options: [
              { text: { type: "plain_text", text: "Data" }, value: "data" },
              { text: { type: "plain_text", text: "Code" }, value: "code" },
            ],
          },
        },
      ],
    });
    const out = modalHtml(ws, "U0OLIVIA").value;
    expect(out).toContain('<header class="modal-title">Resolve INC-1</header>');
    expect(out).toContain('<textarea name="note_text"');
    expect(out).toContain("&lt;/textarea&gt;&lt;b&gt;</textarea>");
    expect(out).toContain('<select name="cause_pick" required>');
    expect(out).toContain('<option value="data" selected>Data</option>');
    expect(modalHtml(ws, "U0GUEST").value).toBe("");
  });
});

describe("a channel as one person sees it", () => {
  it("shows threads under their parent and ephemerals only to the person they are for", () => {
    const ws = workspace();
    const parent = ws.postMessage({ channel: "fraud-alerts", text: "card" });
    ws.postMessage({ channel: "fraud-alerts", text: "reply in thread", thread_ts: parent.ts });
    ws.postEphemeral({ channel: "fraud-alerts", user: "U0GUEST", text: "You may not acknowledge" });
    const guest = channelHtml(ws, "C0ALERTS", "U0GUEST", new Set()).value;
    const olivia = channelHtml(ws, "C0ALERTS", "U0OLIVIA", new Set()).value;
    expect(guest).toContain("You may not acknowledge");
    expect(guest).toContain("Only visible to you");
    expect(olivia).not.toContain("You may not acknowledge");
    expect(olivia).toContain("1 reply");
    expect(olivia).toContain("reply in thread");
    expect(olivia).toMatch(/<details class="thread" data-thread-ts="[\d.]+" open>/);
    expect(channelHtml(ws, "C0ALERTS", "U0OLIVIA", new Set([parent.ts])).value).not.toMatch(/ open>/);
  });

  it("shows files shared with a message: title, name and size, with a preview for images", () => {
    const ws = workspace();
    const file = ws.reserveFile("drift<1>.png", 3);
    ws.receiveFileBytes(file.id, Buffer.from([1, 2, 3]));
    ws.completeUpload({
      files: [{ id: file.id, title: "Drift <report>" }],
      channel: "C0ALERTS",
      initial_comment: "chart",
    });
    const out = channelHtml(ws, "C0ALERTS", "U0OLIVIA", new Set()).value;
    expect(out).toContain(
      `<a href="/sandbox/files/${file.id}" target="_blank" rel="noopener">📎 Drift &lt;report&gt;</a>`,
    );
    expect(out).toContain("drift&lt;1&gt;.png · 3 bytes");
    expect(out).toContain(`<img class="file-preview" src="/sandbox/files/${file.id}"`);
  });
});
