import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/index.js";
import { createFeatures } from "../../src/features.js";
import type { OnCallFeature } from "../../src/wiring/oncall-feature.js";
import { oneModelConfigInput, startTestBot } from "../helpers/bot.js";
import { manualClock } from "../helpers/monitoring.js";
import { eventually } from "./incidents-bot.js";

const FIXTURE = readFileSync(new URL("../oncall/fixtures/ds-oncall-export.ics", import.meta.url), "utf8");
/** Dev's first fortnight in the fixture (Monday 9 March 2026, 09:30 in Berlin). */
const clock = manualClock(new Date("2026-03-09T08:30:00Z"));

let server: Server;
let answer: { status: number; body: string } = { status: 200, body: FIXTURE };
let requests = 0;
let bot: Awaited<ReturnType<typeof startTestBot>>;
let feature: OnCallFeature;

beforeAll(async () => {
  server = createServer((_req, res) => {
    requests++;
    res.writeHead(answer.status, { "content-type": "text/calendar" }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const config = configSchema.parse(
    oneModelConfigInput({
      schedules: {
        "vendor-oncall": {
          timezone: "Europe/Berlin",
          ical: {
            url: `http://127.0.0.1:${port}/export/basic.ics`,
            users: { "dana@example.com": "U0DANA", "dev@example.com": "U0DEV" },
          },
        },
      },
    }),
  );
  bot = await startTestBot({
    config,
    clock,
    features: (ctx) => {
      const features = createFeatures(ctx);
      feature = features.find((f) => f.name === "oncall") as OnCallFeature;
      return features;
    },
  });
});
afterAll(async () => {
  await bot?.close();
  await new Promise((resolve) => server.close(resolve));
});

async function whoIsOn(): Promise<string> {
  const channel = bot.sandbox.workspace.channelByName("fraud-alerts")?.id as string;
  const res = await bot.sandbox.driver.command("U0DANA", channel, "oncall vendor-oncall");
  return JSON.stringify(res.body);
}
const alerts = () =>
  bot.sandbox.workspace.messages("mlops-alerts").filter((m) => m.text.includes("On-call schedule"));

describe("a schedule fetched from a URL by the running bot", () => {
  it("fetches at start; a feed that goes bad keeps the copy, alerts the channel once, and shows stale since", async () => {
    await eventually("the first fetch", async () => (await whoIsOn()).includes("*Now:* <@U0DEV>"));
    expect(requests).toBe(1);

    answer = { status: 503, body: "upstream down" };
    // An hour on (refresh_every's default), the claimed tick fetches again; twice more while failing.
    for (const at of ["2026-03-09T09:30:00Z", "2026-03-09T09:35:00Z"]) {
      clock.set(new Date(at));
      expect(await feature.scheduler.claimTick("oncall:calendar-refresh", new Date(at))).toBe("ran");
    }
    expect(requests).toBe(3);
    const view = await whoIsOn();
    expect(view).toContain("*Now:* <@U0DEV>");
    // Dana reads 09:30Z on her Berlin clock.
    expect(view).toContain(
      "*Stale since Mon 9 Mar 10:30*: the schedule's feed could not be fetched (HTTP 503)",
    );
    const [alert] = await eventually("the alert", () => alerts().length > 0 && alerts());
    expect(alert?.text).toContain("*vendor-oncall* could not be fetched from 127.0.0.1");
    const ready = (await (await fetch(`${bot.url}/readyz`)).json()) as Record<string, unknown>;
    expect(ready.status).toBe("degraded");
    expect(JSON.stringify(ready)).toContain("HTTP 503");

    answer = { status: 200, body: FIXTURE };
    clock.set(new Date("2026-03-09T09:40:00Z"));
    expect(await feature.scheduler.claimTick("oncall:calendar-refresh", clock.now())).toBe("ran");
    await eventually("the recovery note", () => alerts().length === 2);
    expect(alerts()[1]?.text).toContain("could be fetched again");
    expect(await whoIsOn()).not.toContain("Stale since");
  });
});
