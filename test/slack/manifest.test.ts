import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const manifest = parse(readFileSync(new URL("../../slack-manifest.yaml", import.meta.url), "utf8"));

describe("slack-manifest.yaml", () => {
  it("declares the bot user, /mlops and interactivity at /slack/events", () => {
    expect(manifest.features.bot_user.display_name).toBeTruthy();
    const [command] = manifest.features.slash_commands;
    expect(command.command).toBe("/mlops");
    expect(new URL(command.url).pathname).toBe("/slack/events");
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(new URL(manifest.settings.interactivity.request_url).pathname).toBe("/slack/events");
  });

  it("asks for exactly the bot scopes the bot uses", () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(
      [
        "commands",
        "chat:write",
        "chat:write.public",
        "usergroups:read",
        "im:write",
        "users:read",
        "reactions:write",
        "files:write",
        "channels:history",
        "groups:history",
        "im:history",
      ].sort(),
    );
  });
});
