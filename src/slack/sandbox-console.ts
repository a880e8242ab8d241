import { createInterface } from "node:readline";
import type { Bot } from "../bot.js";
import type { MlopsConfig } from "../config/index.js";
import type { Logger } from "../shared/logger.js";
import { attachTerminalPrinter } from "./sandbox/index.js";

/**
 * In sandbox mode, shows every message the bot sends as readable text and, on a terminal, lets
 * the person at the keyboard type slash commands as a seeded user:
 * `/mlops help`, or `as dana /mlops models` to act as someone else. Returns a function that
 * stops reading the terminal.
 */
export function attachSandboxConsole(bot: Bot, config: MlopsConfig, logger: Logger): () => void {
  const sandbox = bot.sandbox;
  if (!sandbox) return () => {};
  const { workspace, driver } = sandbox;
  attachTerminalPrinter(workspace);
  const channel = config.models[0]?.alert_channel ?? config.workspace.alert_channel;
  const defaultUser = config.sandbox.users[0]?.id;
  process.stdout.write(
    `\nSlack sandbox ready: no Slack credentials are set, so the bot talks to a built-in imitation of Slack.\n` +
      `Open ${bot.url}/sandbox in a browser to use it like Slack (with a demo traffic control).\n` +
      `People: ${config.sandbox.users.map((u) => u.name).join(", ") || "(none seeded)"}. ` +
      `Type a command such as "/mlops help" (as ${config.sandbox.users[0]?.name ?? "nobody"} in #${channel}), ` +
      `or "as <name> /mlops models".\n\n`,
  );
  if (!process.stdin.isTTY || !defaultUser) return () => {};
  const rl = createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    const match = /^\s*(?:as\s+(\S+)\s+)?\/mlops\b\s*(.*)$/.exec(line);
    if (!match) {
      if (line.trim()) process.stdout.write('Type "/mlops <command>" or "as <name> /mlops <command>".\n');
      return;
    }
    const user = match[1] ? workspace.userByName(match[1]) : workspace.user(defaultUser);
    if (!user) {
      process.stdout.write(`No sandbox user called ${match[1]}.\n`);
      return;
    }
    driver.command(user.id, channel, match[2] ?? "").catch((err: unknown) => {
      logger.error({ err }, "sandbox command failed");
    });
  });
  return () => rl.close();
}
