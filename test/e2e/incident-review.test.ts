import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditRepository } from "../../src/audit/index.js";
import { type FraudService, startFraudService } from "../../src/demo/fraud-service.js";
import { fraudScore } from "../../src/demo/fraud-traffic.js";
import { formatDuration } from "../../src/shared/duration.js";
import { driftOnlyConfig, oneIncidentPerFinding, startTestBot } from "../helpers/bot.js";
import { injectDrift } from "../helpers/drift.js";
import { makeToken } from "../helpers/monitoring.js";
import { eventually, outboxDrained } from "./incidents-bot.js";

type TestBot = Awaited<ReturnType<typeof startTestBot>>;
let bot: TestBot;
let token: string;
let service: FraudService;

/** The sandbox's people as the review names them. */
const NAME = {
  U0OLIVIA: "Olivia Ops (L1 operator) (@olivia)",
  U0DANA: "Dana Science (L2 data scientist) (@dana)",
  U0DEV: "Dev Science (L2 data scientist) (@dev)",
} as const;

beforeAll(async () => {
  service = await startFraudService({ port: 0, score: fraudScore, version: "v2", previous: ["v1"] });
  bot = await startTestBot({ config: oneIncidentPerFinding(driftOnlyConfig({ service_url: service.url })) });
  token = await makeToken(bot.database);
});
afterAll(async () => {
  await bot?.close();
  await service?.close();
});

interface TimelineEvent {
  at: string;
  kind: string;
  actor: string;
  detail: Record<string, unknown>;
}

const utc = (iso: string | Date) =>
  `${(typeof iso === "string" ? iso : iso.toISOString()).slice(0, 19).replace("T", " ")} UTC`;

/** The section of a Markdown document under `## title`, up to the next heading. */
function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  expect(start, `section ${title}`).toBeGreaterThan(0);
  const rest = markdown.slice(start + title.length + 5);
  const end = rest.indexOf("\n## ");
  return end < 0 ? rest : rest.slice(0, end);
}

describe("the post-incident review", () => {
  it("fire, page, acknowledge, run a runbook, resolve: the review file in the thread and at /incidents/INC-n/review.md says what the timeline says", async () => {
    const { workspace, driver } = bot.sandbox;
    const where = workspace.channelByName("fraud-alerts")?.id as string;
    await injectDrift(bot, token, where);
    expect((await driver.command("U0OLIVIA", where, "check fraud-detector")).status).toBe(200);
    const card = await eventually(
      "the drift card for amount",
      () => workspace.messages(where).find((m) => /^INC-\d+ \[open\] Drift in amount/.test(m.text)),
      20_000,
    );
    const ref = /^(INC-\d+)/.exec(card.text)?.[1] as string;

    // Olivia pages L2; Dana answers the page by acknowledging; Olivia runs a runbook; Dana resolves.
    const api = async () => {
      const res = await fetch(`${bot.url}/api/v1/incidents/${ref}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { timeline: TimelineEvent[] };
    };
    expect(JSON.stringify((await driver.command("U0OLIVIA", where, `escalate ${ref}`)).body)).toContain(
      "escalated",
    );
    await eventually(
      "the L2 page",
      async () => (await api()).timeline.some((e) => e.kind === "paged" && e.detail.tier === 2),
      20_000,
    );
    expect(JSON.stringify((await driver.command("U0DANA", where, `ack ${ref}`)).body)).toContain(
      "You acknowledged",
    );
    await driver.command("U0OLIVIA", where, `runbook run clear-feature-cache ${ref}`);
    await eventually(
      "the runbook to finish",
      async () => (await api()).timeline.some((e) => e.kind === "runbook_finished"),
      20_000,
    );
    // Slack's upload endpoint fails for a while around the resolve: the review waits, then arrives once.
    await outboxDrained(bot, 30_000);
    const refusedBefore = workspace.requests("upload").filter((r) => r.status === 503).length;
    workspace.faults.add({ method: "upload", kind: "http_error", status: 503, times: 2 });
    const note = "cleared the feature cache; the amount feed is back to normal";
    expect(JSON.stringify((await driver.command("U0DANA", where, `resolve ${ref} ${note}`)).body)).toContain(
      "You resolved",
    );

    // The draft arrives once, as a file in the incident's thread.
    const reviews = () =>
      workspace
        .thread(where, card.ts)
        .flatMap((m) => m.files)
        .map((id) => workspace.file(id))
        .filter((f) => f?.name === `${ref}-review.md`);
    const [file] = await eventually(
      "the review file in the thread",
      () => reviews().length > 0 && reviews(),
      30_000,
    );
    await outboxDrained(bot, 30_000);
    expect(reviews()).toHaveLength(1);
    expect(workspace.requests("upload").filter((r) => r.status === 503).length - refusedBefore).toBe(2);
    const posted = String(file?.bytes?.toString("utf8"));

    // Every section, with the real times and actors of the timeline.
    const { timeline } = await api();
    const first = (kind: string) => {
      const e = timeline.find((x) => x.kind === kind);
      expect(e, kind).toBeDefined();
      return e as TimelineEvent;
    };
    const opened = first("opened");
    const acked = first("acknowledged");
    const resolved = first("resolved");
    const paged = timeline.filter((e) => e.kind === "paged");
    const started = first("runbook_started");
    const finished = first("runbook_finished");
    const dataFrom = opened.detail.dataFrom as string;
    expect(typeof dataFrom).toBe("string");
    for (const heading of [
      "Summary",
      "Impact window",
      "What fired",
      "Response times",
      "Runbook runs",
      "Pages",
      "Retraining",
      "Resolution",
      "Follow-ups",
    ])
      expect(posted).toContain(`\n## ${heading}\n`);
    expect(posted.startsWith(`# ${ref} post-incident review: Drift in amount`)).toBe(true);
    expect(section(posted, "Summary")).toContain(`resolved ${utc(resolved.at)} by ${NAME.U0DANA}`);
    const impact = section(posted, "Impact window");
    expect(impact).toContain(`**Bad data from:** ${utc(dataFrom)}`);
    expect(impact).toContain(`**First firing:** ${utc(opened.at)}`);
    expect(impact).toContain(`**Ended:** ${utc(resolved.at)}`);
    const fired = section(posted, "What fired");
    expect(fired).toContain(`**Rule:** ${opened.detail.rule as string}`);
    for (const key of Object.keys(opened.detail.metrics as object)) expect(fired).toContain(`| ${key} | `);
    const times = section(posted, "Response times");
    const gap = (a: string, b: string) => Date.parse(b) - Date.parse(a);
    expect(times).toContain(
      `| detect | ${utc(opened.at)} | ${formatDuration(gap(dataFrom, opened.at))} after`,
    );
    expect(times).toContain(
      `| acknowledge | ${utc(acked.at)} | ${formatDuration(gap(opened.at, acked.at))} | ${NAME.U0DANA} |`,
    );
    expect(times).toContain("| mitigate | — | not reached | — |");
    expect(times).toContain(
      `| resolve | ${utc(resolved.at)} | ${formatDuration(gap(opened.at, resolved.at))} | ${NAME.U0DANA} |`,
    );
    const runs = section(posted, "Runbook runs");
    expect(runs).toContain(
      `| ${utc(started.at)} | clear-feature-cache | ${NAME.U0OLIVIA} | ${finished.detail.status as string} (exit ${finished.detail.exitCode as number}) | ${finished.detail.verify as string} |`,
    );
    const pages = section(posted, "Pages");
    const l2 = paged.find((p) => p.detail.tier === 2);
    expect(l2, "an L2 page").toBeDefined();
    expect(pages).toContain(
      `- ${utc(l2?.at as string)}: paged L2 @ds-oncall (${NAME.U0DANA}, ${NAME.U0DEV})`,
    );
    expect(pages).toContain(`answered by ${NAME.U0DANA} at ${utc(acked.at)}`);
    expect(section(posted, "Retraining")).toContain("No retraining.");
    expect(section(posted, "Resolution")).toContain(note);
    expect(section(posted, "Follow-ups")).toContain("None yet.");

    // The served review is the same document while nothing was added.
    const served = async (auth = true) =>
      fetch(`${bot.url}/incidents/${ref}/review.md`, {
        headers: auth ? { authorization: `Bearer ${token}` } : {},
        redirect: "manual",
      });
    const first200 = await served();
    expect(first200.status).toBe(200);
    expect(first200.headers.get("content-type")).toContain("text/markdown");
    expect(await first200.text()).toBe(posted);
    // Behind the incident log's auth: a visitor without a token is sent to sign in.
    const anonymous = await served(false);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toBe(
      `/incidents/login?next=${encodeURIComponent(`/incidents/${ref}/review.md`)}`,
    );

    // Follow-ups: a guest is refused (ephemeral, nothing added); Dev adds two; the review lists them.
    const audit = createAuditRepository(bot.database.db);
    const refusal = await driver.command("U0GUEST", where, `followup ${ref} rewrite everything`);
    expect(JSON.stringify(refusal.body)).toContain(`You may not add follow-ups to ${ref}`);
    expect(JSON.stringify(refusal.body)).toContain("Nothing was added.");
    for (const [text, says] of [
      [`followup ${ref}`, "Say what to follow up"],
      ["followup INC-x add a check", "is not an incident reference"],
      ["followup INC-99999 add a check", "There is no incident INC-99999"],
      [`followup ${ref} ${"x".repeat(501)}`, "at most 500 characters"],
    ] as const)
      expect(JSON.stringify((await driver.command("U0DEV", where, text)).body)).toContain(says);
    expect(await (await served()).text()).toBe(posted);
    const items = [
      "alert on the amount feed's upstream schema",
      "add the cache clear to the deploy checklist",
    ];
    for (const item of items) {
      const res = await driver.command("U0DEV", where, `followup ${ref} ${item}`);
      expect(JSON.stringify(res.body)).toContain(`to ${ref}'s review: ${item}`);
    }
    const current = await (await served()).text();
    const followups = section(current, "Follow-ups");
    const added = (await api()).timeline.filter((e) => e.kind === "followup_added");
    expect(added.map((e) => e.detail.text)).toEqual(items);
    for (const [n, item] of items.entries())
      expect(followups).toContain(`- [ ] ${item} (added by ${NAME.U0DEV}, ${utc(added[n]?.at as string)})`);
    expect(followups).not.toContain("rewrite everything");
    // Everything above the follow-ups is unchanged.
    expect(current.slice(0, current.indexOf("\n## Follow-ups"))).toBe(
      posted.slice(0, posted.indexOf("\n## Follow-ups")),
    );
    const entries = (await audit.recent({ limit: 500 })).filter((e) => e.action === "incident.followup");
    expect(entries.map((e) => e.outcome).sort()).toEqual(["ok", "ok", "refused"]);
    // The follow-ups were announced in the thread.
    await outboxDrained(bot, 30_000);
    expect(workspace.thread(where, card.ts).filter((m) => m.text.includes("added follow-up"))).toHaveLength(
      2,
    );

    // /metrics has each response stage, detect included, for this incident's labels.
    const metrics = await (await fetch(`${bot.url}/metrics`)).text();
    for (const stage of ["detect", "acknowledge", "resolve"])
      expect(metrics).toMatch(
        new RegExp(
          `mlops_incident_stage_seconds_count\\{stage="${stage}",model="fraud-detector",monitor="drift",severity="[a-z]+"\\} [1-9]`,
        ),
      );
  }, 120_000);
});
