import { describe, expect, it } from "vitest";
import { signSlackRequest, verifySlackSignature } from "../../src/slack/signature.js";

// Slack's documented example (also in bolt-js's own tests).
const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const TS = 1531420618;
const BODY =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const EXPECTED = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

const verify = (over: Partial<Parameters<typeof verifySlackSignature>[0]>) =>
  verifySlackSignature({
    signingSecret: SECRET,
    timestamp: String(TS),
    signature: EXPECTED,
    rawBody: BODY,
    nowSeconds: TS + 10,
    ...over,
  });

describe("Slack request signatures", () => {
  it("signs Slack's documented example to the documented signature", () => {
    expect(signSlackRequest(SECRET, TS, BODY)).toBe(EXPECTED);
  });

  it("accepts the documented request within the window", () => {
    expect(verify({})).toBeNull();
    expect(verify({ nowSeconds: TS + 300 })).toBeNull();
  });

  it("refuses a timestamp more than five minutes old or ahead", () => {
    expect(verify({ nowSeconds: TS + 301 })).toBe("stale_timestamp");
    expect(verify({ nowSeconds: TS - 301 })).toBe("stale_timestamp");
  });

  it("refuses a changed body, a wrong secret, a truncated or missing signature", () => {
    expect(verify({ rawBody: `${BODY}&x=1` })).toBe("bad_signature");
    expect(verify({ signingSecret: "another-secret" })).toBe("bad_signature");
    expect(verify({ signature: EXPECTED.slice(0, -2) })).toBe("bad_signature");
    expect(verify({ signature: undefined })).toBe("missing_headers");
    expect(verify({ timestamp: undefined })).toBe("missing_headers");
  });

  it("refuses a timestamp that is not a plain number", () => {
    expect(verify({ timestamp: "1531420618.5" })).toBe("stale_timestamp");
    expect(verify({ timestamp: "abc" })).toBe("stale_timestamp");
  });
});
