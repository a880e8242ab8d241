import { expect } from "vitest";
import { demoBatch, seededRandom, withoutLabel } from "../../src/demo/fraud-traffic.js";
import type { SandboxDriver } from "../../src/slack/sandbox/index.js";

const HOUR = 3_600_000;

/**
 * Makes the demo fraud-detector's amount drift: a reference window two to three days ago, a
 * baseline taken from it by an L2 data scientist, then an hour of drifted live traffic. The next
 * drift check fires.
 */
export async function injectDrift(
  bot: { url: string; sandbox: { driver: SandboxDriver } },
  token: string,
  channel: string,
  seed = 1313,
): Promise<void> {
  const rand = seededRandom(seed);
  const post = async (body: unknown) => {
    const res = await fetch(`${bot.url}/api/v1/models/fraud-detector/predictions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  };
  const now = Date.now();
  await post(
    demoBatch(rand, "ref", 1500, new Date(now - 3 * 24 * HOUR), new Date(now - 2 * 24 * HOUR)).map(
      withoutLabel,
    ),
  );
  await bot.sandbox.driver.command("U0DANA", channel, "baseline fraud-detector 4d 2d");
  await post(demoBatch(rand, "live", 400, new Date(now - HOUR), new Date(now), "drift").map(withoutLabel));
}
