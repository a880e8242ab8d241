/**
 * The baseline of the ack bench: a bare Bolt app on its built-in HTTPReceiver answering
 * `/mlops help` with the same text and blocks the bot sends (built by the same `helpBlocks` from
 * the same subcommand list), and nothing else — no database, no audit record, no fastify, no
 * metrics. Run as its own process:
 *
 *   SLACK_BOT_TOKEN=… SLACK_SIGNING_SECRET=… SLACK_API_URL=… PORT=… node --import tsx test/bench/bare-bolt.ts
 *
 * The subcommand list is `createCommandRouter().subcommands`, or, when `BARE_SUBCOMMANDS_FILE`
 * names a JSON file of `{ name, usage, summary }`, that list: the ack bench reads it from the
 * running bot's own help answer, because the bot adds its features' subcommands to the router and
 * building those here would need the database and everything else the baseline must not have.
 *
 * Prints "bare-bolt listening on <port>" once it accepts requests; stops on SIGTERM/SIGINT.
 */
import { readFileSync } from "node:fs";
import { App, LogLevel } from "@slack/bolt";
import { helpBlocks } from "../../src/slack/blocks/help.js";
import { createCommandRouter } from "../../src/slack/commands/router.js";
import type { Subcommand } from "../../src/slack/commands/types.js";

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`bare-bolt: ${name} is required\n`);
    process.exit(2);
  }
  return value;
}

const token = required("SLACK_BOT_TOKEN");
const signingSecret = required("SLACK_SIGNING_SECRET");
const slackApiUrl = required("SLACK_API_URL");
const port = Number(required("PORT"));
const host = process.env.HOST ?? "127.0.0.1";

function loadSubcommands(): readonly Subcommand[] {
  const file = process.env.BARE_SUBCOMMANDS_FILE;
  if (!file) return createCommandRouter().subcommands;
  const list = JSON.parse(readFileSync(file, "utf8")) as { name: string; usage: string; summary: string }[];
  return list.map((c) => ({ ...c, run: () => ({ text: "" }) }));
}

const subcommands = loadSubcommands();

const app = new App({ token, signingSecret, port, logLevel: LogLevel.WARN, clientOptions: { slackApiUrl } });

app.command("/mlops", async ({ ack }) => {
  // Built per request, as the bot's help command does.
  await ack({
    response_type: "ephemeral",
    text: `mlops-bot commands: ${subcommands.map((c) => c.name).join(", ")}`,
    blocks: helpBlocks(subcommands),
  });
});

await app.start({ port, host });
process.stdout.write(`bare-bolt listening on ${port}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  app.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
