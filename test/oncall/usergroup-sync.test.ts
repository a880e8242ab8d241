import type { App } from "@slack/bolt";
import { LogLevel, WebClient } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditRepository } from "../../src/audit/index.js";
import type { Database } from "../../src/db/index.js";
import { type SandboxServer, startSandboxServer } from "../../src/slack/sandbox/index.js";
import { createOnCallFeature, type OnCallFeature } from "../../src/wiring/oncall-feature.js";
import { demoConfig } from "../helpers/bot.js";
import { openTestDatabase } from "../helpers/db.js";
import { featureContext, manualClock } from "../helpers/monitoring.js";

const TOKEN = "xoxb-usergroup-sync";
// The demo's ds-oncall (weekly, Monday 09:00 Berlin), with a group that follows it, named by handle.
const config = demoConfig();
const dsOncall = config.schedules["ds-oncall"];
if (!dsOncall) throw new Error("the demo config has no ds-oncall");
dsOncall.usergroup = "ds-oncall-now";
/** Wednesday 25 March 2026: Dev's week; Dana takes over Monday 30 March at 07:00Z. */
const clock = manualClock(new Date("2026-03-25T12:00:00Z"));
let sandbox: SandboxServer;
let database: Database;
let replicas: [OnCallFeature, OnCallFeature];

beforeAll(async () => {
  sandbox = await startSandboxServer({
    token: TOKEN,
    seed: {
      users: ["U0DANA", "U0DEV", "U0GUEST"].map((id) => ({ id, name: id.toLowerCase(), real_name: id })),
      userGroups: [
        { id: "S0DSNOW", handle: "ds-oncall-now", name: "DS on call", users: ["U0DANA", "U0DEV"] },
      ],
    },
  });
  database = await openTestDatabase();
  const client = new WebClient(TOKEN, {
    slackApiUrl: sandbox.apiUrl,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
  });
  replicas = [
    createOnCallFeature(featureContext(database, config, clock), { instanceId: "replica-a" }),
    createOnCallFeature(featureContext(database, config, clock), { instanceId: "replica-b" }),
  ];
  // The feature takes the app's Web API client; its buttons are not clicked here.
  const app = { client, action: () => app, view: () => app };
  for (const r of replicas) r.slack?.(app as unknown as App);
});
afterAll(async () => {
  await database?.close();
  await sandbox?.close();
});

const members = () => [...(sandbox.workspace.userGroup("S0DSNOW")?.users ?? [])];
async function tickBoth(iso: string): Promise<string[]> {
  clock.set(new Date(iso));
  return (await Promise.all(replicas.map((r) => r.scheduler.tick("oncall:usergroup-sync")))).sort();
}
const drifts = async () =>
  (await createAuditRepository(database.db).recent()).filter((a) => a.action === "oncall.usergroup.drift");

describe("a user group that follows ds-oncall", () => {
  it("is set to the person on call at start, once across two replicas", async () => {
    expect(members()).toEqual(["U0DANA", "U0DEV"]);
    expect(await tickBoth("2026-03-25T12:00:00Z")).toEqual(["ran", "taken"]);
    expect(members()).toEqual(["U0DEV"]);
    // It differed without a handoff: reported as drift, with what the group held.
    expect((await drifts()).map((d) => d.detail.before)).toEqual([["U0DANA", "U0DEV"]]);
    expect(await tickBoth("2026-03-25T12:01:00Z")).toEqual(["ran", "taken"]);
    expect(members()).toEqual(["U0DEV"]);
  });

  it("follows the handoff within the minute, and is not reported as drift", async () => {
    await tickBoth("2026-03-30T06:59:00Z");
    expect(members()).toEqual(["U0DEV"]);
    expect(await tickBoth("2026-03-30T07:00:00Z")).toEqual(["ran", "taken"]);
    expect(members()).toEqual(["U0DANA"]);
    expect(await drifts()).toHaveLength(1);
  });

  it("after a Slack outage, during which someone edited the group by hand, puts it back and reports it", async () => {
    const outage = sandbox.workspace.faults.add({ method: "usergroups.*", kind: "http_error", status: 503 });
    sandbox.workspace.userGroup("S0DSNOW")?.users.push("U0GUEST");
    expect(await tickBoth("2026-03-30T07:05:00Z")).toEqual(["failed", "taken"]);
    expect(members()).toEqual(["U0DANA", "U0GUEST"]);
    sandbox.workspace.faults.remove(outage);
    expect(await tickBoth("2026-03-30T07:06:00Z")).toEqual(["ran", "taken"]);
    expect(members()).toEqual(["U0DANA"]);
    const [latest] = await drifts();
    expect(latest?.detail).toMatchObject({ kind: "drift", before: ["U0DANA", "U0GUEST"], after: ["U0DANA"] });
  });
});
