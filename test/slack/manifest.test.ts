import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const read = (name: string) => parse(readFileSync(new URL(`../../${name}`, import.meta.url), "utf8"));
const manifest = read("slack-manifest.yaml");
const socketManifest = read("slack-manifest.socket.yaml");

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
        "usergroups:write",
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

describe("slack-manifest.socket.yaml", () => {
  it("enables Socket Mode and names no request URL", () => {
    expect(socketManifest.settings.socket_mode_enabled).toBe(true);
    expect(socketManifest.settings.interactivity).toEqual({ is_enabled: true });
    expect(JSON.stringify(socketManifest)).not.toMatch(/https?:/);
  });

  it("is slack-manifest.yaml in every other respect, so the two never drift apart", () => {
    const http = structuredClone(manifest);
    for (const command of http.features.slash_commands) delete command.url;
    delete http.settings.interactivity.request_url;
    http.settings.socket_mode_enabled = true;
    expect(socketManifest).toEqual(http);
  });
});
