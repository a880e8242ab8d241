/**
 * 10,000 generated Slack requests, correctly signed, with hostile content: slash-command texts,
 * button clicks (known and unknown action ids, hostile values) and modal submissions (hostile
 * private_metadata and state), from people who may not act and from unknown users. The bot never
 * answers 5xx, never crashes, and a refused request changes no state.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultRows } from "../../src/db/client.js";
import { ACTION_IDS, VIEW_IDS } from "../../src/slack/action-ids.js";
import { signSlackRequest } from "../../src/slack/signature.js";
import {
  API_TOKEN,
  eventually,
  type IncidentBot,
  outboxDrained,
  startIncidentBot,
} from "../e2e/incidents-bot.js";
import { Gen, SEED } from "./generators.js";
import { stateDigest } from "./state.js";

const COMMANDS = 4000;
const INTERACTIONS = 6000;

let bot: IncidentBot;
let channels: string[];

beforeAll(async () => {
  bot = await startIncidentBot({ allFeatures: true });
  channels = ["fraud-alerts", "alerts"].flatMap((n) => {
    const c = bot.sandbox.workspace.resolveChannel(n);
    return c ? [c.id] : [];
  });
  // A few incidents to aim at.
  for (const name of ["FuzzA", "FuzzB", "FuzzC"]) {
    const res = await fetch(`${bot.url}/api/v1/alertmanager`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        version: "4",
        status: "firing",
        alerts: [
          {
            status: "firing",
            labels: { alertname: name, model: "fraud-detector", severity: "critical" },
            annotations: { summary: `${name} is failing` },
            startsAt: new Date().toISOString(),
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
  }
  await outboxDrained(bot, 20_000);
  // Escalation starts each incident's policy from its own ticker: wait for it, so that the storm
  // below is measured against a settled state.
  await eventually(
    "the incidents' escalations to start",
    async () => {
      const [row] = resultRows<{ waiting: number }>(
        await bot.database.db.execute(
          "select count(*)::int as waiting from incidents i where not exists (select 1 from incident_escalations e where e.incident_id = i.id)",
        ),
      );
      return row?.waiting === 0;
    },
    20_000,
  );
}, 60_000);

afterAll(async () => {
  await bot?.close();
});

/** People who may act (l1, l2, owners), one who may not, and users Slack never heard of. */
const ALLOWED = ["U0OLIVIA", "U0DANA", "U0MAYA"];
const REFUSED = ["U0GUEST", "U0NOBODY", "W999", "", "U0OLIVIA\u0000", "x".repeat(300)];
const SUBCOMMANDS = [
  "help",
  "status",
  "check",
  "incidents",
  "incident",
  "ack",
  "escalate",
  "resolve",
  "runbook",
  "runbook list",
  "runbook run",
  "retrain",
  "silence",
  "silences",
  "unsilence",
  "models",
  "whoami",
  "oncall",
  "baseline",
  "canary",
  "approve",
];

/** `check` runs the monitors for anyone (by design), so its effects are no refusal's. */
const REFUSABLE = SUBCOMMANDS.filter((c) => c !== "check");

function commandText(g: Gen, subcommands: readonly string[]): string {
  if (g.chance(0.1)) return g.hostile();
  const words = [g.pick(subcommands)];
  for (let i = g.int(0, 4); i > 0; i--)
    words.push(
      g.pick([
        () => `INC-${g.int(-2, 5)}`,
        () => g.pick(["fraud-detector", "churn", "FRAUD-DETECTOR", "*"]),
        () => g.pick(["1h", "30m", "-5m", "0s", "99999999d", "1.5h", "h", "1e9s"]),
        () => g.hostile(),
      ])(),
    );
  return words.join(g.pick([" ", "  ", "\t", "\n"]));
}

function commandForm(g: Gen, user: string, subcommands = SUBCOMMANDS): Record<string, string> {
  return {
    token: "sandbox-verification-token",
    team_id: g.chance(0.9) ? "T0SANDBOX" : g.word(),
    channel_id: g.chance(0.85) ? g.pick(channels) : g.pick(["C0NOPE", "D0DM", "", g.word()]),
    channel_name: "fraud-alerts",
    user_id: user,
    user_name: g.word(),
    command: g.chance(0.97) ? "/mlops" : g.pick(["/other", "/MLOPS", ""]),
    text: commandText(g, subcommands),
    response_url: `${bot.url}/sandbox/response/fuzz`,
    trigger_id: g.chance(0.8) ? `${g.int(1, 1e6)}.${g.int(1, 1e6)}.fuzz` : g.word(),
  };
}

function actionId(g: Gen): string {
  return g.pick([
    ACTION_IDS.incidentAcknowledge,
    ACTION_IDS.incidentResolve,
    ACTION_IDS.incidentSilence1h,
    ACTION_IDS.incidentEscalate,
    `${ACTION_IDS.incidentRunbookPrefix}${g.pick(["restart-scorer", "rollback", "../../bin/sh", g.word()])}`,
    ...Object.values(ACTION_IDS),
    g.word(),
    g.hostile(),
  ]) as string;
}

function interaction(g: Gen, user: unknown): Record<string, unknown> {
  const channel = g.chance(0.85) ? g.pick(channels) : g.value();
  const incidentValue = g.pick([
    () => String(g.int(1, 3)),
    () => String(g.int(-5, 100)),
    () => g.value(),
    () => "999999999",
    () => "1e3",
  ])();
  if (g.chance(0.6)) {
    return {
      type: "block_actions",
      user: g.chance(0.9) ? { id: user, username: g.word() } : g.value(),
      team: { id: "T0SANDBOX" },
      api_app_id: "A0SANDBOX",
      token: "sandbox-verification-token",
      container: { type: "message", channel_id: channel, message_ts: `${g.int(1, 2e9)}.000100` },
      channel: g.chance(0.9) ? { id: channel } : g.value(),
      trigger_id: g.chance(0.9) ? `${g.int(1, 1e6)}.fuzz` : g.value(),
      response_url: `${bot.url}/sandbox/response/fuzz`,
      actions: g.chance(0.95)
        ? Array.from({ length: g.chance(0.9) ? 1 : g.int(0, 3) }, () => ({
            type: g.pick(["button", "static_select", g.word()]),
            action_id: actionId(g),
            block_id: g.word(),
            value: incidentValue,
            action_ts: `${Date.now() / 1000}`,
          }))
        : g.value(),
    };
  }
  if (g.chance(0.8)) {
    const metadata = g.pick([
      () => JSON.stringify({ incidentId: g.int(1, 3), channel }),
      () => JSON.stringify({ incidentId: g.value(), channel: g.value() }),
      () => JSON.stringify(g.value()),
      () => '{"__proto__":{"polluted":true},"incidentId":1,"channel":"C0SBX00001"}',
      () => g.hostile(),
    ])();
    return {
      type: "view_submission",
      user: g.chance(0.9) ? { id: user } : g.value(),
      team: { id: "T0SANDBOX" },
      api_app_id: "A0SANDBOX",
      trigger_id: `${g.int(1, 1e6)}.fuzz`,
      view: {
        id: `V${g.int(1, 1e6)}`,
        type: "modal",
        callback_id: g.pick([...Object.values(VIEW_IDS), g.word(), g.hostile()]),
        private_metadata: g.chance(0.95) ? metadata : g.value(),
        state: g.chance(0.9)
          ? {
              values: {
                [g.pick(["resolution", g.word()])]: {
                  [g.pick(["resolution_note", g.word()])]: {
                    type: "plain_text_input",
                    value: g.chance(0.8) ? g.hostile() : g.value(),
                  },
                },
              },
            }
          : g.value(),
      },
    };
  }
  return g.pick([
    () => ({
      type: g.pick(["shortcut", "message_action", "block_suggestion", "view_closed", g.word()]),
      user: { id: user },
    }),
    () => ({ type: "block_actions" }),
    () => ({ type: "view_submission", view: null }),
    () => ({ ...(g.value() as object) }),
  ])();
}

interface Outcome {
  status: number;
  what: string;
}

/**
 * Signs and injects one request. Injected rather than sent over a socket: the full HTTP stack
 * (routing, body limits, signature check, Bolt) runs either way, and 10,000 requests fit the
 * suite's time budget on two cores only without the socket round trips.
 */
async function send(form: Record<string, string>, what: string): Promise<Outcome> {
  const body = new URLSearchParams(form).toString();
  const ts = Math.floor(Date.now() / 1000);
  const res = await bot.http.inject({
    method: "POST",
    url: "/slack/events",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(ts),
      "x-slack-signature": signSlackRequest(bot.sandbox.signingSecret, ts, body),
    },
    payload: body,
  });
  return { status: res.statusCode, what };
}

/** Runs `count` generated requests, `width` at a time; returns every answer. */
async function storm(count: number, width: number, make: (i: number) => [Record<string, string>, string]) {
  const outcomes: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++;
        const [form, what] = make(i);
        outcomes.push(await send(form, what));
      }
    }),
  );
  return outcomes;
}

/** The state digest once background work after setup (escalation starts, card edits) has settled. */
async function settledDigest() {
  let last = await stateDigest(bot.database.db);
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const next = await stateDigest(bot.database.db);
    if (JSON.stringify(next) === JSON.stringify(last)) return next;
    last = next;
  }
  throw new Error("the bot's state never settled after setup");
}

async function rowsOf(tables: string[]) {
  const out: Record<string, unknown> = {};
  for (const t of tables) out[t] = await bot.database.db.execute(`select * from "${t}"`);
  return JSON.stringify(out).slice(0, 6000);
}

function serverErrors(outcomes: Outcome[]): string[] {
  return outcomes.filter((o) => o.status >= 500).map((o) => `${o.status} ${o.what.slice(0, 300)}`);
}

describe(`hostile Slack requests (seed ${SEED})`, () => {
  it("from people who may not act: never a 5xx, and nothing changes", async () => {
    console.log(`slack-fuzz seed ${SEED} (set SECURITY_SEED=${SEED} to replay)`);
    const g = new Gen(SEED);
    const before = await settledDigest();
    const started = Date.now();
    const outcomes = await storm((COMMANDS + INTERACTIONS) / 2, 8, (i) => {
      const user = g.pick(REFUSED);
      if (i % 5 < 2) {
        const form = commandForm(g, user, REFUSABLE);
        return [form, `command ${JSON.stringify(form.text)} by ${JSON.stringify(user)}`];
      }
      const payload = interaction(g, user);
      const json = JSON.stringify(payload);
      return [{ payload: json }, `interaction ${json}`];
    });
    console.log(`slack-fuzz: ${outcomes.length} refused-user requests in ${Date.now() - started} ms`);
    expect(serverErrors(outcomes)).toEqual([]);
    await outboxDrained(bot, 30_000);
    const after = await stateDigest(bot.database.db);
    const changed = Object.keys(after).filter((t) => after[t] !== before[t]);
    if (changed.length) console.log(await rowsOf(changed));
    expect(after).toEqual(before);
  }, 180_000);

  it("from anyone, people who may act included: never a 5xx, and the bot stays ready", async () => {
    const g = new Gen(SEED + 1);
    const started = Date.now();
    const outcomes = await storm((COMMANDS + INTERACTIONS) / 2, 8, (i) => {
      const user = g.chance(0.5) ? g.pick(ALLOWED) : g.pick(REFUSED);
      if (i % 5 < 2) {
        const form = commandForm(g, user);
        return [form, `command ${JSON.stringify(form.text)} by ${JSON.stringify(user)}`];
      }
      const json = JSON.stringify(interaction(g, user));
      return [{ payload: json }, `interaction ${json}`];
    });
    console.log(`slack-fuzz: ${outcomes.length} mixed requests in ${Date.now() - started} ms`);
    expect(serverErrors(outcomes)).toEqual([]);
    const statuses = [...new Set(outcomes.map((o) => o.status))].sort();
    expect(statuses.every((s) => s === 200 || s === 400 || s === 404)).toBe(true);
    expect((await fetch(`${bot.url}/readyz`)).status).toBe(200);
  }, 180_000);
});
