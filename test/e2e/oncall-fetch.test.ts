import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/index.js";
import { oneModelConfigInput, startTestBot } from "../helpers/bot.js";
import { eventually } from "./incidents-bot.js";

const FIXTURE = readFileSync(new URL("../oncall/fixtures/ds-oncall-export.ics", import.meta.url), "utf8");
/** Dev's first fortnight in the fixture (Monday 9 March 2026, 09:30 in Berlin). */
const clock = { now: () => new Date("2026-03-09T08:30:00Z") };

let server: Server;
let answer: { status: number; body: string } = { status: 200, body: FIXTURE };
let requests = 0;
const dataDir = mkdtempSync(join(tmpdir(), "mlops-oncall-fetch-"));

beforeAll(async () => {
  server = createServer((_req, res) => {
    requests++;
    res.writeHead(answer.status, { "content-type": "text/calendar" }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dataDir, { recursive: true, force: true });
});

function config() {
  const { port } = server.address() as AddressInfo;
  return configSchema.parse(
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
}

async function whoIsOn(bot: Awaited<ReturnType<typeof startTestBot>>): Promise<string> {
  const channel = bot.sandbox.workspace.channelByName("fraud-alerts")?.id as string;
  const res = await bot.sandbox.driver.command("U0DANA", channel, "oncall vendor-oncall");
  return JSON.stringify(res.body);
}

describe("a schedule fetched from a URL by the running bot", () => {
  it("fetches at start, stores the copy, and after a restart with the URL failing answers from it", async () => {
    const first = await startTestBot({ config: config(), clock, env: { MLOPS_DATA_DIR: dataDir } });
    try {
      await eventually("the first fetch", async () => (await whoIsOn(first)).includes("*Now:* <@U0DEV>"));
      expect(requests).toBeGreaterThanOrEqual(1);
      expect(readFileSync(join(dataDir, "schedules", "vendor-oncall.ics"), "utf8")).toBe(FIXTURE);
    } finally {
      await first.close();
    }

    answer = { status: 503, body: "upstream down" };
    const second = await startTestBot({ config: config(), clock, env: { MLOPS_DATA_DIR: dataDir } });
    try {
      expect(await whoIsOn(second)).toContain("*Now:* <@U0DEV>");
      const ready = await eventually("/readyz to report the failed fetch", async () => {
        const body = (await (await fetch(`${second.url}/readyz`)).json()) as Record<string, unknown>;
        return body.status === "degraded" && body;
      });
      expect(JSON.stringify(ready)).toContain("HTTP 503");
      expect(await whoIsOn(second)).toContain("*Now:* <@U0DEV>");
      expect(existsSync(join(dataDir, "schedules", "vendor-oncall.ics"))).toBe(true);
    } finally {
      await second.close();
    }
  });
});
