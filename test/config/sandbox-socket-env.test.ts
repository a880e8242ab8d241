import { describe, expect, it } from "vitest";
import { checkBotEnv, parseEnv, slackMode } from "../../src/config/index.js";

describe("MLOPS_SANDBOX_SOCKET", () => {
  it("is accepted in sandbox mode, where it keeps the sandbox (Socket Mode is how the bot reaches it)", () => {
    const env = parseEnv({ MLOPS_SANDBOX_SOCKET: "1" });
    expect(slackMode(env)).toBe("sandbox");
    expect(() => checkBotEnv(env)).not.toThrow();
  });

  it("is refused with Slack credentials, where there is no sandbox to reach", () => {
    const env = parseEnv({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: "xapp-1", MLOPS_SANDBOX_SOCKET: "1" });
    expect(() => checkBotEnv(env)).toThrow(/MLOPS_SANDBOX_SOCKET: set to 1, but Slack credentials are set/);
  });

  it("takes only 1, 0 or nothing", () => {
    expect(() => parseEnv({ MLOPS_SANDBOX_SOCKET: "yes" })).toThrow(/MLOPS_SANDBOX_SOCKET/);
  });
});
