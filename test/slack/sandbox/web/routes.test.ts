import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IncidentBot, startIncidentBot } from "../../../e2e/incidents-bot.js";

let bot: IncidentBot;

beforeAll(async () => {
  bot = await startIncidentBot();
});
afterAll(async () => {
  await bot?.close();
});

function post(path: string, body: unknown, contentType = "application/json") {
  return fetch(`${bot.url}/sandbox/${path}`, {
    method: "POST",
    headers: { "content-type": contentType },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("the sandbox page's routes", () => {
  it("serve the page with a CSP that forbids inline script, and its two assets", async () => {
    const page = await fetch(`${bot.url}/sandbox?as=guest`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('data-user="U0GUEST"');
    expect(html).not.toMatch(/<script>/);
    const js = await fetch(`${bot.url}/sandbox/static/sandbox.js`);
    expect(js.headers.get("content-type")).toContain("text/javascript");
    expect((await fetch(`${bot.url}/sandbox/static/sandbox.css`)).status).toBe(200);
    expect((await fetch(`${bot.url}/sandbox/static/..%2Fassets.ts`)).status).toBe(404);
  });

  it("refuse bad input with a clear error and post nothing", async () => {
    const where = bot.sandbox.workspace.channelByName("fraud-alerts")?.id as string;
    const before = bot.sandbox.workspace.allMessages().length;
    const empty = await post("web/send", { user: "U0OLIVIA", channel: where, text: "   " });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { message: string }).message).toBe("text: type something first");
    expect((await post("web/send", { user: "U0NOBODY", channel: where, text: "hi" })).status).toBe(404);
    expect((await post("web/send", { user: "U0MLOPSBOT", channel: where, text: "hi" })).status).toBe(404);
    expect((await post("web/send", { user: "U0OLIVIA", channel: "nowhere", text: "hi" })).status).toBe(404);
    expect((await post("web/send", { user: "U0OLIVIA", channel: where, text: "hi", extra: 1 })).status).toBe(
      400,
    );
    // another site's form cannot post here: no form parser, and text/plain is not an object
    expect(
      (await post("web/send", "user=U0OLIVIA&text=hi", "application/x-www-form-urlencoded")).status,
    ).toBe(415);
    expect((await post("web/send", '{"user":"U0OLIVIA"}', "text/plain")).status).toBe(400);
    expect((await post("web/demo", { action: "inject", fault: "meteor" })).status).toBe(400);
    expect(
      (
        await post("web/click", {
          user: "U0OLIVIA",
          channel: where,
          ts: "1.0",
          ephemeral: false,
          action_id: "x",
        })
      ).status,
    ).toBe(404);
    expect((await post("web/submit", { user: "U0OLIVIA", view_id: "V404", values: {} })).status).toBe(404);
    expect(bot.sandbox.workspace.allMessages().length).toBe(before);
  });

  it("a plain message is stored escaped the way Slack stores what people type", async () => {
    const where = bot.sandbox.workspace.channelByName("fraud-alerts")?.id as string;
    const res = await post("web/send", { user: "U0DANA", channel: where, text: "a <b> & c" });
    expect(res.status).toBe(200);
    expect(bot.sandbox.workspace.lastMessage(where)).toMatchObject({
      user: "U0DANA",
      text: "a &lt;b&gt; &amp; c",
    });
  });

  it("a DM is shown only to its members, and someone else's ephemeral cannot be clicked", async () => {
    const { workspace } = bot.sandbox;
    const { channel: dm } = workspace.openDm(["U0DANA"]);
    workspace.postMessage({ channel: dm.id, text: "page for dana" });
    expect((await fetch(`${bot.url}/sandbox/web/channel/${dm.id}?user=U0DANA`)).status).toBe(200);
    expect((await fetch(`${bot.url}/sandbox/web/channel/${dm.id}?user=U0OLIVIA`)).status).toBe(404);
    const sidebar = await (await fetch(`${bot.url}/sandbox/web/sidebar?user=U0OLIVIA&channel=`)).text();
    expect(sidebar).not.toContain(dm.id);
    const where = workspace.channelByName("fraud-alerts")?.id as string;
    const secret = workspace.postEphemeral({
      channel: where,
      user: "U0DANA",
      blocks: [
        {
          type: "actions",
          elements: [{ type: "button", action_id: "b", text: { type: "plain_text", text: "B" } }],
        },
      ],
    });
    const click = await post("web/click", {
      user: "U0OLIVIA",
      channel: where,
      ts: secret.message_ts,
      ephemeral: true,
      action_id: "b",
    });
    expect(click.status).toBe(404);
  });

  it("streams workspace changes as server-sent events", async () => {
    const controller = new AbortController();
    const res = await fetch(`${bot.url}/sandbox/web/events`, { signal: controller.signal });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const where = bot.sandbox.workspace.channelByName("mlops-alerts")?.id as string;
    bot.sandbox.workspace.postMessage({ channel: where, text: "hello" });
    let text = "";
    while (!text.includes('"kind":"message"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain(`event: change\ndata: {"kind":"message","channel":"${where}"}`);
    controller.abort();
  });

  it("serves a shared file: images inline, anything else as a download, both sandboxed", async () => {
    const { workspace } = bot.sandbox;
    const image = workspace.reserveFile("chart.png", 4);
    workspace.receiveFileBytes(image.id, Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    const page = workspace.reserveFile("report.html", 20);
    workspace.receiveFileBytes(page.id, Buffer.from("<script>alert(1)</script>"));
    const png = await fetch(`${bot.url}/sandbox/files/${image.id}`);
    expect(png.headers.get("content-type")).toBe("image/png");
    expect(png.headers.get("content-security-policy")).toContain("sandbox");
    const html = await fetch(`${bot.url}/sandbox/files/${page.id}`);
    expect(html.headers.get("content-type")).toBe("application/octet-stream");
    expect(html.headers.get("content-disposition")).toBe('attachment; filename="report.html"');
    expect((await fetch(`${bot.url}/sandbox/files/F404`)).status).toBe(404);
  });
});
