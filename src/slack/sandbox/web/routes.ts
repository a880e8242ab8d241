import type { ServerResponse } from "node:http";
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import type { DemoTraffic } from "../../../demo/demo-stream.js";
import { FAULTS } from "../../../demo/fraud-traffic.js";
import type { SafeHtml } from "../../../web/html.js";
import type { SandboxDriver } from "../driver.js";
import type { SandboxMessage } from "../types.js";
import type { SandboxEvents, SandboxWorkspace } from "../workspace.js";
import { loadAssets } from "./assets.js";
import { actingUsers, channelHtml, modalHtml, sidebarHtml, visibleChannels } from "./fragments.js";
import { pageHtml } from "./page.js";

/** What the sandbox page needs. */
export interface SandboxPageDeps {
  workspace: SandboxWorkspace;
  driver: () => SandboxDriver;
  /** The demo model's traffic, when the config has the demo model. */
  demo?: DemoTraffic;
  /** Logs the browser into the incident log as the sandbox's own API caller: the Set-Cookie values. */
  incidentLogLogin?: () => Promise<string[]>;
  /** The channel shown first (name or id). */
  defaultChannel?: string;
}

/**
 * Everything but inline code is refused: fragments are escaped when built, and this makes an
 * escaping mistake inert. Images may come from anywhere (Block Kit image URLs), nothing else.
 */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const userField = z.string().min(1).max(80).describe("a sandbox user's id");
const sendBody = z.strictObject({
  user: userField,
  channel: z.string().min(1).max(80),
  text: z.string().trim().min(1, "type something first").max(4000),
  thread_ts: z.string().max(40).optional(),
});
const clickBody = z.strictObject({
  user: userField,
  channel: z.string().min(1).max(80),
  ts: z.string().min(1).max(40),
  ephemeral: z.boolean(),
  action_id: z.string().min(1).max(255),
  block_id: z.string().max(255).optional(),
  /** For a select in a message: the chosen option's value. */
  selected: z.string().min(1).max(200).optional(),
});
const submitBody = z.strictObject({
  user: userField,
  view_id: z.string().min(1).max(40),
  values: z.record(
    z.string().max(255),
    z.union([z.string().max(3000), z.array(z.string().max(3000)), z.null()]),
  ),
});
const closeBody = z.strictObject({ user: userField, view_id: z.string().min(1).max(40) });
const demoBody = z.strictObject({
  action: z.enum(["start", "inject", "stop"]),
  fault: z.enum(FAULTS).optional(),
});

/** Slack escapes these three in what people type. */
function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function sendHtml(reply: FastifyReply, markup: SafeHtml): FastifyReply {
  return reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(markup.value);
}

function badRequest(reply: FastifyReply, issues: z.core.$ZodIssue[]): FastifyReply {
  return reply.code(400).send({
    error: "bad_request",
    message: issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "),
  });
}

const EVENT_KINDS = ["message", "update", "delete", "reaction", "file", "ephemeral", "view"] as const;

/** What a change event tells the page: enough to decide what to refetch, nothing more. */
function describe<K extends (typeof EVENT_KINDS)[number]>(kind: K, payload: SandboxEvents[K]) {
  switch (kind) {
    case "ephemeral": {
      const e = payload as SandboxEvents["ephemeral"];
      return { kind, channel: e.channel, user: e.user };
    }
    case "view": {
      const v = payload as SandboxEvents["view"];
      return { kind, user: v.user };
    }
    case "file": {
      const f = payload as SandboxEvents["file"];
      return { kind, channel: f.shares.at(-1)?.channel ?? null };
    }
    default:
      return { kind, channel: (payload as { channel: string }).channel };
  }
}

/**
 * The sandbox as a web page (mounted under `/sandbox` in sandbox mode only): the page, its
 * assets, HTML fragments of the sidebar, a channel and the open modal, a server-sent event
 * stream of workspace changes, and the actions a person takes (send, click, submit, close,
 * demo traffic), each played to the bot by the driver as correctly signed Slack requests.
 * Action routes take JSON only, so another site cannot post to them from a form.
 */
export function sandboxPageRoutes(deps: SandboxPageDeps) {
  const { workspace } = deps;
  const assets = loadAssets();
  const streams = new Set<ServerResponse>();

  const userOf = (id: string) => {
    const user = workspace.user(id) ?? workspace.userByName(id);
    return user && !user.is_bot ? user : undefined;
  };
  const firstChannel = () =>
    (deps.defaultChannel ? workspace.resolveChannel(deps.defaultChannel) : undefined)?.id ??
    workspace.channels().find((c) => c.kind === "channel")?.id ??
    "";

  return async (scope: FastifyInstance): Promise<void> => {
    scope.addHook("onSend", async (_req, reply, payload) => {
      // Files set their own, stricter policy.
      if (!reply.hasHeader("content-security-policy")) reply.header("content-security-policy", CSP);
      reply.header("x-content-type-options", "nosniff");
      reply.header("referrer-policy", "no-referrer");
      return payload;
    });
    // Event streams never go idle, so a shutdown ends them instead of waiting for them.
    scope.addHook("preClose", async () => {
      for (const res of streams) res.end();
      streams.clear();
    });

    scope.get<{ Querystring: { as?: string } }>("/", async (req, reply) => {
      const wanted = typeof req.query.as === "string" ? userOf(req.query.as) : undefined;
      const user = wanted ?? actingUsers(workspace)[0];
      if (!user) return reply.code(503).send({ error: "no_users", message: "the sandbox has no people" });
      return sendHtml(
        reply,
        pageHtml({
          workspace,
          channel: firstChannel(),
          user: user.id,
          demo: deps.demo !== undefined,
          incidentLog: deps.incidentLogLogin !== undefined,
        }),
      );
    });

    scope.get<{ Params: { name: string } }>("/static/:name", async (req, reply) => {
      const asset = assets[req.params.name];
      if (!asset) return reply.code(404).send({ error: "not_found" });
      return reply.type(asset.type).header("cache-control", "no-cache").send(asset.body);
    });

    scope.get<{ Querystring: { user?: string; channel?: string } }>("/web/sidebar", async (req, reply) => {
      const user = userOf(String(req.query.user ?? ""));
      if (!user) return reply.code(404).send({ error: "user_not_found" });
      return sendHtml(reply, sidebarHtml(workspace, user.id, String(req.query.channel ?? "")));
    });

    scope.get<{ Params: { id: string }; Querystring: { user?: string; closed?: string } }>(
      "/web/channel/:id",
      async (req, reply) => {
        const user = userOf(String(req.query.user ?? ""));
        if (!user) return reply.code(404).send({ error: "user_not_found" });
        const channel = workspace.resolveChannel(req.params.id);
        if (!channel || !visibleChannels(workspace, user.id).includes(channel))
          return reply.code(404).send({ error: "channel_not_found" });
        const closed = new Set(
          String(req.query.closed ?? "")
            .split(",")
            .filter(Boolean),
        );
        reply.header("x-channel-title", encodeURIComponent(workspace.channelLabel(channel.id)));
        return sendHtml(reply, channelHtml(workspace, channel.id, user.id, closed));
      },
    );

    scope.get<{ Querystring: { user?: string } }>("/web/modal", async (req, reply) => {
      const user = userOf(String(req.query.user ?? ""));
      if (!user) return reply.code(404).send({ error: "user_not_found" });
      return sendHtml(reply, modalHtml(workspace, user.id));
    });

    scope.get<{ Params: { id: string } }>("/files/:id", async (req, reply) => {
      const file = workspace.file(req.params.id);
      if (!file?.bytes) return reply.code(404).send({ error: "file_not_found" });
      const image = /\.(png|jpe?g|gif|webp)$/i.exec(file.name)?.[1]?.toLowerCase();
      const type = image ? `image/${image === "jpg" ? "jpeg" : image}` : "application/octet-stream";
      reply.type(type).header("content-security-policy", "sandbox; default-src 'none'");
      if (!image)
        reply.header("content-disposition", `attachment; filename="${file.name.replace(/[^\w.-]/g, "_")}"`);
      return reply.send(file.bytes);
    });

    scope.get("/web/events", (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      res.write("retry: 1000\n\n");
      const send = (data: unknown) => res.write(`event: change\ndata: ${JSON.stringify(data)}\n\n`);
      const unsubscribe = [
        ...EVENT_KINDS.map((kind) => workspace.on(kind, (payload) => send(describe(kind, payload as never)))),
        ...(deps.demo ? [deps.demo.onChange((status) => send({ kind: "demo", status }))] : []),
      ];
      const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
      streams.add(res);
      const done = () => {
        clearInterval(ping);
        for (const off of unsubscribe) off();
        streams.delete(res);
      };
      req.raw.on("close", done);
      res.on("close", done);
      if (deps.demo) send({ kind: "demo", status: deps.demo.status() });
    });

    scope.post("/web/send", async (req, reply) => {
      const parsed = sendBody.safeParse(req.body);
      if (!parsed.success) return badRequest(reply, parsed.error.issues);
      const { channel, text, thread_ts } = parsed.data;
      const user = userOf(parsed.data.user);
      if (!user) return reply.code(404).send({ error: "user_not_found", message: "no such sandbox person" });
      const where = workspace.resolveChannel(channel);
      if (!where || !visibleChannels(workspace, user.id).includes(where))
        return reply.code(404).send({ error: "channel_not_found", message: "no such channel" });
      const command = /^\/(\S+)\s*([\s\S]*)$/.exec(text);
      if (command && !thread_ts) {
        if (command[1] !== "mlops") {
          return reply.code(400).send({
            error: "unknown_command",
            message: `/${command[1]} is not a command here; try /mlops help`,
          });
        }
        const result = await deps.driver().command(user.id, where.id, command[2] ?? "");
        if (result.status !== 200)
          return reply.code(502).send({ error: "bot_error", message: `the bot answered ${result.status}` });
        return { ok: true };
      }
      if (thread_ts && !workspace.message(where.id, thread_ts))
        return reply.code(404).send({ error: "thread_not_found", message: "that thread is gone" });
      workspace.postMessage({
        channel: where.id,
        user: user.id,
        text: slackEscape(text),
        ...(thread_ts ? { thread_ts } : {}),
      });
      return { ok: true };
    });

    scope.post("/web/click", async (req, reply) => {
      const parsed = clickBody.safeParse(req.body);
      if (!parsed.success) return badRequest(reply, parsed.error.issues);
      const { channel, ts, ephemeral, action_id, block_id, selected } = parsed.data;
      const user = userOf(parsed.data.user);
      if (!user) return reply.code(404).send({ error: "user_not_found", message: "no such sandbox person" });
      const message = ephemeral ? workspace.ephemeral(channel, ts) : workspace.message(channel, ts);
      if (!message || (ephemeral && "user" in message && message.user !== user.id))
        return reply.code(404).send({ error: "message_not_found", message: "that message is gone" });
      try {
        const result =
          selected !== undefined && !ephemeral
            ? await deps.driver().chooseOption(user.id, message as SandboxMessage, action_id, selected)
            : await deps
                .driver()
                .clickButton(user.id, message, action_id, block_id ? { blockId: block_id } : {});
        if (result.status !== 200)
          return reply.code(502).send({ error: "bot_error", message: `the bot answered ${result.status}` });
        return { ok: true };
      } catch (err) {
        return reply.code(404).send({ error: "button_not_found", message: (err as Error).message });
      }
    });

    scope.post("/web/submit", async (req, reply) => {
      const parsed = submitBody.safeParse(req.body);
      if (!parsed.success) return badRequest(reply, parsed.error.issues);
      const user = userOf(parsed.data.user);
      const view = workspace.view(parsed.data.view_id);
      if (!user || !view?.open || view.user !== user.id)
        return reply.code(404).send({ error: "view_not_found", message: "that dialog is closed" });
      try {
        const result = await deps.driver().submitView(user.id, view.id, parsed.data.values);
        if (result.status !== 200)
          return reply.code(502).send({ error: "bot_error", message: `the bot answered ${result.status}` });
        const body = result.body as { response_action?: string; errors?: Record<string, string> } | string;
        if (typeof body === "object" && body?.response_action === "errors")
          return { ok: false, errors: body.errors ?? {} };
        return { ok: true };
      } catch (err) {
        return reply.code(400).send({ error: "bad_submission", message: (err as Error).message });
      }
    });

    scope.post("/web/close", async (req, reply) => {
      const parsed = closeBody.safeParse(req.body);
      if (!parsed.success) return badRequest(reply, parsed.error.issues);
      const user = userOf(parsed.data.user);
      const view = workspace.view(parsed.data.view_id);
      if (!user || !view || view.user !== user.id)
        return reply.code(404).send({ error: "view_not_found", message: "no such dialog" });
      workspace.closeView(view.id);
      return { ok: true };
    });

    scope.post("/web/demo", async (req, reply) => {
      const demo = deps.demo;
      if (!demo) return reply.code(404).send({ error: "no_demo", message: "the config has no demo model" });
      const parsed = demoBody.safeParse(req.body);
      if (!parsed.success) return badRequest(reply, parsed.error.issues);
      const { action, fault } = parsed.data;
      // Backfilling takes a few seconds: answer at once, the page follows the status on its stream.
      if (action === "start") void demo.start(fault ?? "none");
      else if (action === "inject") void demo.inject(fault ?? "drift");
      else await demo.stop();
      return { ok: true, status: demo.status() };
    });

    scope.get("/web/demo", async (_req, reply) => {
      if (!deps.demo) return reply.code(404).send({ error: "no_demo" });
      return deps.demo.status();
    });

    scope.get("/incident-log", async (_req, reply) => {
      if (!deps.incidentLogLogin) return reply.code(404).send({ error: "not_found" });
      const cookies = await deps.incidentLogLogin();
      return reply.header("set-cookie", cookies).redirect("/incidents", 303);
    });
  };
}
