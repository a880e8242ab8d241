import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditRepository } from "../../src/audit/index.js";
import { resultRows } from "../../src/db/client.js";
import { type FraudService, startFraudService } from "../../src/demo/fraud-service.js";
import { fraudScore } from "../../src/demo/fraud-traffic.js";
import type { SandboxMessage } from "../../src/slack/sandbox/index.js";
import { oneIncidentPerFinding } from "../helpers/bot.js";
import {
  RUNBOOK_API_TOKEN,
  type RunbookBot,
  runbooksDir,
  signal,
  startRunbookBot,
} from "../runbooks/fixture.js";
import { buttonIds, cardOf, eventually, outboxDrained } from "./incidents-bot.js";

const CHANNEL = "fraud-alerts";
let bot: RunbookBot;
let service: FraudService;
let folder: ReturnType<typeof runbooksDir>;
const marker = `/tmp/mlops-pwned-${process.pid}`;
const scratch = mkdtempSync(join(tmpdir(), "mlops-rb-e2e-"));
/** `hold-on` runs until this file exists. */
const release = join(scratch, "release");
/** `token-probe` writes the token it was given here. */
const tokenFile = join(scratch, "token");

beforeAll(async () => {
  service = await startFraudService({ port: 0, score: fraudScore, version: "v2", previous: ["v1"] });
  folder = runbooksDir({
    // Echoes what it received, to show parameters arrive as literal strings.
    "echo-args": {
      "runbook.yaml": `name: echo-args
title: Echo the arguments
description: Prints its argv, its MLOPS_PARAM_ variables and the incident context it was given.
when: { models: [fraud-detector], monitors: [never-suggested] }
params:
  text: { type: string, max_length: 300 }
run: [node, echo.mjs, "--text={text}", "{text}"]
timeout: 10s
`,
      "echo.mjs": `import { readFileSync } from "node:fs";
const ctx = JSON.parse(readFileSync(0, "utf8"));
console.log(JSON.stringify({ argv: process.argv.slice(2), env: process.env.MLOPS_PARAM_TEXT, ref: ctx.incident?.ref, numbers: ctx.incident?.numbers, keys: Object.keys(process.env).sort() }));`,
    },
    // Prints more than a message holds, so the whole output goes up as a file.
    "loud-report": {
      "runbook.yaml": `name: loud-report
title: Print a long report
description: Prints a long report.
when: { models: [fraud-detector], monitors: [never-suggested] }
run: [node, loud.mjs]
timeout: 10s
`,
      "loud.mjs": `for (let i = 0; i < 400; i++) console.log("line " + i + " " + "x".repeat(40));\nconsole.log("THE END");`,
    },
    // Runs until the test releases it (a file appears), to click it again while it runs.
    "hold-on": {
      "runbook.yaml": `name: hold-on
title: Hold on until released
description: Waits for the test to release it.
when: { models: [fraud-detector], monitors: [hold] }
run: [node, hold.mjs]
timeout: 60s
`,
      "hold.mjs": `import { existsSync } from "node:fs";
console.log("holding");
while (!existsSync(${JSON.stringify(release)})) await new Promise((r) => setTimeout(r, 25));
console.log("released");`,
    },
    // Calls the bot's API with the run's own token, and keeps it for the test to try afterwards.
    "token-probe": {
      "runbook.yaml": `name: token-probe
title: Call the API with the run's token
description: Reads the model's monitor runs with the token the run was given.
when: { models: [fraud-detector], monitors: [never-suggested] }
run: [node, probe.mjs]
timeout: 20s
api_token: { scopes: [read] }
`,
      "probe.mjs": `import { writeFileSync } from "node:fs";
const token = process.env.MLOPS_RUN_TOKEN ?? "";
writeFileSync(${JSON.stringify(tokenFile)}, token);
const res = await fetch(process.env.MLOPS_URL + "/api/v1/models/fraud-detector/runs", { headers: { authorization: "Bearer " + token } });
console.log(JSON.stringify({ status: res.status, bootstrap: "MLOPS_API_TOKEN" in process.env, prefix: token.slice(0, 6) }));
process.exit(res.ok ? 0 : 1);`,
    },
    // Only L2 may run it, although run_runbooks allows L1 too.
    "l2-only": {
      "runbook.yaml": `name: l2-only
title: Something only L2 may do
description: Narrower than the workspace permission.
when: { models: [fraud-detector], monitors: [never-suggested] }
run: [node, -e, "console.log('ran')"]
allowed_groups: [l2]
timeout: 10s
`,
    },
  });
  // Each test opens its own incident with a finding on a subject of its own.
  const config = oneIncidentPerFinding();
  for (const m of config.models) m.service_url = service.url;
  bot = await startRunbookBot({ dir: folder.dir, config, monitoring: true });
});
afterAll(async () => {
  await bot?.close();
  await service?.close();
  folder?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

async function openIncident(over: Parameters<typeof signal>[0] = {}) {
  const [outcome] = await bot.incidents.intake.process([signal(over)]);
  if (!outcome?.incidentId) throw new Error("expected an incident");
  const ref = `INC-${outcome.incidentId}`;
  const card = await eventually(`the card of ${ref}`, () =>
    cardOf({ ...bot, feature: bot.incidents }, CHANNEL, ref),
  );
  return { id: outcome.incidentId, ref, card };
}

function text(m: SandboxMessage | undefined): string {
  return `${m?.text ?? ""} ${JSON.stringify(m?.blocks ?? [])}`;
}

/** The progress message of run `runId` in the card's thread, once `done` says it is final. */
function progress(
  card: SandboxMessage,
  runId: number,
  done: (t: string) => boolean = (t) => !t.includes(": running"),
) {
  return eventually(
    `run ${runId}'s message`,
    () => {
      const m = bot.sandbox.workspace
        .thread(CHANNEL, card.ts)
        .find((r) => r.text.startsWith(`Runbook `) && r.text.includes(`(run ${runId})`));
      return m && done(m.text) ? m : undefined;
    },
    20_000,
  );
}

async function timelineOf(id: number) {
  return bot.incidents.incidents.timeline(id);
}

describe("runbooks from the incident card (through the sandbox)", () => {
  it("the card offers the matching runbook; a click runs it, the thread shows the output and verify, and Resolve works", async () => {
    const { workspace, driver } = bot.sandbox;
    const { id, ref, card } = await openIncident();
    // A probe incident of fraud-detector: restart-service and rollback-model match; the others do not.
    expect(buttonIds(card)).toEqual(
      expect.arrayContaining(["incident_runbook:restart-service", "incident_runbook:rollback-model"]),
    );
    expect(buttonIds(card)).not.toContain("incident_runbook:clear-feature-cache");
    expect(buttonIds(card)).not.toContain("incident_runbook:echo-args");

    service.state.healthy = false;
    const click = await driver.clickButton("U0OLIVIA", card, "incident_runbook:restart-service");
    expect(click.status).toBe(200);
    const started = await eventually(
      "the run to be recorded",
      async () => (await bot.runbooks.runbooks.recent({ incidentId: id }))[0],
    );
    const msg = await progress(card, started.id, (t) => t.includes("verify passed"));
    expect(msg.text).toContain("succeeded, exit code 0");
    expect(text(msg)).toContain("POST /admin/restart → 200");
    expect(text(msg)).toContain("Verify passed");
    expect(msg.edits).toBeGreaterThan(0); // the same message went from running to the result
    expect(service.state.restarts).toBe(1);
    expect(service.state.healthy).toBe(true);

    const run = await bot.runbooks.runbooks.runById(started.id);
    expect(run).toMatchObject({
      status: "succeeded",
      exitCode: 0,
      verify: "passed",
      actor: "U0OLIVIA",
      via: "button",
    });
    expect(run?.params).toEqual({ service_url: service.url });
    const events = (await timelineOf(id)).filter((e) => e.kind.startsWith("runbook_"));
    expect(events.map((e) => [e.kind, e.actor])).toEqual([
      ["runbook_started", "U0OLIVIA"],
      ["runbook_finished", "U0OLIVIA"],
    ]);
    expect(events[1]?.detail).toMatchObject({
      run: started.id,
      name: "restart-service",
      status: "succeeded",
      exitCode: 0,
      verify: "passed",
    });
    expect(typeof events[1]?.detail.durationMs).toBe("number");

    // Resolve, offered on the result, opens the incident's resolve modal and resolves it.
    expect(buttonIds(msg)).toEqual(["incident_resolve"]);
    const resolveClick = await driver.clickButton("U0OLIVIA", msg, "incident_resolve");
    expect(resolveClick.status).toBe(200);
    const view = await eventually("the resolve modal", () => workspace.views("U0OLIVIA").find((v) => v.open));
    expect(view.view.callback_id).toBe("incident_resolve_modal");
    expect(
      (await driver.submitView("U0OLIVIA", view.id, { resolution_note: "Restarted the service" })).status,
    ).toBe(200);
    await eventually(
      "the incident to be resolved",
      async () => (await bot.incidents.incidents.get(id)).state === "resolved",
    );
    const summary = await eventually("the summary", () =>
      workspace.thread(CHANNEL, card.ts).find((m) => m.text.includes(`${ref} resolved`)),
    );
    expect(summary.text).toContain("runbook started");
  });

  it("a confirm: true runbook asks first with its parameters; submitting runs it and verify checks the version", async () => {
    const { workspace, driver } = bot.sandbox;
    const { id, card } = await openIncident({ monitor: "drift", subject: "prediction", modelVersion: "v2" });
    await driver.clickButton("U0OMAR", card, "incident_runbook:rollback-model");
    const view = await eventually("the confirm modal", () => workspace.views("U0OMAR").find((v) => v.open));
    expect(view.view.callback_id).toBe("runbook_confirm_modal");
    // The service URL is the model's, shown but not editable; the reason is an input.
    expect(JSON.stringify(view.view.blocks)).toContain(service.url);
    const inputs = (view.view.blocks as { type: string; block_id?: string }[])
      .filter((b) => b.type === "input")
      .map((b) => b.block_id);
    expect(inputs).toEqual(["runbook_param:reason"]);
    expect(await bot.runbooks.runbooks.recent({ incidentId: id })).toEqual([]); // nothing ran yet

    // A bad value is pointed at in the modal and runs nothing.
    const bad = await driver.submitView("U0OMAR", view.id, { "runbook_param:reason": "bad\nrelease" });
    expect(JSON.stringify(bad.body)).toContain("runbook_param:reason");
    expect(await bot.runbooks.runbooks.recent({ incidentId: id })).toEqual([]);

    const ok = await driver.submitView("U0OMAR", view.id, { "runbook_param:reason": "bad feature release" });
    expect(ok.status).toBe(200);
    const run = await eventually(
      "the run",
      async () => (await bot.runbooks.runbooks.recent({ incidentId: id }))[0],
    );
    const msg = await progress(card, run.id, (t) => t.includes("verify"));
    expect(msg.text).toContain("verify passed");
    expect(text(msg)).toContain("rolling back to v1");
    expect(service.state.version).toBe("v1");
    expect((await bot.runbooks.runbooks.runById(run.id))?.params).toEqual({
      service_url: service.url,
      reason: "bad feature release",
    });
  });

  it("hostile parameter values from a command reach the script as literal strings and nothing else runs", async () => {
    const { driver } = bot.sandbox;
    const { id, card } = await openIncident({ monitor: "confidence", subject: "low_confidence" });
    const hostile = ["x; rm -rf / #", `$(touch ${marker})`, `\`touch ${marker}\``];
    for (const value of hostile) {
      const res = await driver.command(
        "U0OLIVIA",
        CHANNEL,
        `runbook run echo-args INC-${id} text="${value}"`,
      );
      expect(JSON.stringify(res.body)).toContain("Started `echo-args`");
      await bot.runbooks.runbooks.idle(); // one run per runbook and incident at a time
    }
    await bot.runbooks.runbooks.idle();
    const runs = (await bot.runbooks.runbooks.recent({ incidentId: id })).reverse();
    expect(runs.map((r) => r.params.text)).toEqual(hostile);
    for (const [i, run] of runs.entries()) {
      expect(run.status).toBe("succeeded");
      const seen = JSON.parse(run.output) as {
        argv: string[];
        env: string;
        ref: string;
        numbers: unknown;
        keys: string[];
      };
      expect(seen.argv).toEqual([`--text=${hostile[i]}`, hostile[i]]);
      expect(seen.env).toBe(hostile[i]);
      expect(seen.ref).toBe(`INC-${id}`);
      expect(seen.numbers).toEqual({ wrong: 2, total: 2 });
      // Only the base variables, the params and the run's identity: no bot secrets.
      expect(
        seen.keys.filter((k) => !["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"].includes(k)),
      ).toEqual([
        "MLOPS_INCIDENT",
        "MLOPS_MODEL",
        "MLOPS_PARAM_TEXT",
        "MLOPS_RUNBOOK",
        "MLOPS_RUN_ID",
        "MLOPS_URL",
      ]);
    }
    expect(existsSync(marker)).toBe(false);
    const first = await progress(card, runs[0]?.id ?? 0);
    expect(text(first)).toContain("x; rm -rf / #");
  });

  it("bad input gets a clear answer and writes nothing", async () => {
    const { driver } = bot.sandbox;
    const { id } = await openIncident({ monitor: "confidence", subject: "low_confidence_2" });
    const cases: [string, RegExp][] = [
      [`runbook run nope INC-${id}`, /There is no runbook `nope`/],
      [`runbook run echo-args INC-${id} txt=1`, /`txt`: not a parameter/],
      [`runbook run echo-args INC-${id}`, /`text`: required/],
      [`runbook run echo-args INC-999999 text=a`, /INC-999999/],
      [`runbook run clear-feature-cache INC-${id} service_url=ftp://x`, /fixed to the model's service_url/],
    ];
    for (const [cmd, answer] of cases) {
      const res = await driver.command("U0OLIVIA", CHANNEL, cmd);
      expect(JSON.stringify(res.body), cmd).toMatch(answer);
    }
    expect(await bot.runbooks.runbooks.recent({ incidentId: id })).toEqual([]);
  });

  it("a user outside the allowed groups is refused with an ephemeral, and the attempt is logged", async () => {
    const { workspace, driver } = bot.sandbox;
    const { id, ref, card } = await openIncident();
    await outboxDrained(bot);
    // No run_runbooks permission at all (a guest) — by button.
    await driver.clickButton("U0GUEST", card, "incident_runbook:restart-service");
    const refusal = await eventually("the refusal", () =>
      workspace.ephemerals("U0GUEST").find((e) => e.text.includes("restart-service")),
    );
    expect(refusal.text).toContain("You may not run `restart-service`");
    // Allowed in general (L1) but not by the manifest's allowed_groups — by command.
    const res = await driver.command("U0OLIVIA", CHANNEL, `runbook run l2-only ${ref}`);
    expect(JSON.stringify(res.body)).toContain("You may not run `l2-only`: that takes @ds-oncall");
    await bot.runbooks.runbooks.idle();
    expect(await bot.runbooks.runbooks.recent({ incidentId: id })).toEqual([]);
    expect(service.state.restarts).toBe(1); // only the first test's restart
    const refused = (await timelineOf(id)).filter((e) => e.kind === "refused");
    expect(refused.map((e) => [e.actor, e.detail.runbook])).toEqual([
      ["U0GUEST", "restart-service"],
      ["U0OLIVIA", "l2-only"],
    ]);
    const audit = await createAuditRepository(bot.database.db).recent({ limit: 50 });
    expect(
      audit
        .filter((a) => a.action === "runbook.run" && a.outcome === "refused")
        .map((a) => [a.actor, a.target]),
    ).toEqual(
      expect.arrayContaining([
        ["U0GUEST", "restart-service"],
        ["U0OLIVIA", "l2-only"],
      ]),
    );
    // An L2 member may.
    const l2 = await driver.command("U0DANA", CHANNEL, `runbook run l2-only ${ref}`);
    expect(JSON.stringify(l2.body)).toContain("Started `l2-only`");
    await bot.runbooks.runbooks.idle();
  });

  it("output too long for a message is shown as its tail, and the whole of it is uploaded into the thread", async () => {
    const { workspace, driver } = bot.sandbox;
    const { id, card } = await openIncident();
    await driver.command("U0OLIVIA", CHANNEL, `runbook run loud-report INC-${id}`);
    const run = await eventually(
      "the run",
      async () => (await bot.runbooks.runbooks.recent({ incidentId: id }))[0],
    );
    const msg = await progress(card, run.id);
    expect(text(msg)).toContain("THE END");
    expect(text(msg)).not.toContain("line 0 ");
    expect(text(msg)).toContain("full output is attached");
    const file = await eventually("the uploaded output", () =>
      workspace.files().find((f) => f.completed && f.name === `loud-report-run-${run.id}.log`),
    );
    const content = file.bytes?.toString("utf8") ?? "";
    expect(content).toContain("line 0 ");
    expect(content).toContain("THE END");
    expect(file.shares[0]?.thread_ts).toBe(card.ts);
  });

  it("a confirm: true runbook run by command opens the same dialog instead of running at once", async () => {
    const { workspace, driver } = bot.sandbox;
    const { id } = await openIncident({ monitor: "performance", subject: "f1" });
    const res = await driver.command("U0DANA", CHANNEL, `runbook run rollback-model INC-${id}`);
    expect(JSON.stringify(res.body)).toContain("asks to confirm first");
    const view = await eventually("the confirm modal", () =>
      workspace.views("U0DANA").find((v) => v.open && v.view.callback_id === "runbook_confirm_modal"),
    );
    expect(JSON.stringify(view.view.private_metadata)).toContain(String(id));
    expect(await bot.runbooks.runbooks.recent({ incidentId: id })).toEqual([]);
  });

  it("re-running the data-quality monitor calls the bot's API with the run's own token (no bootstrap token needed); a failed verify offers no Resolve", async () => {
    const { card, id } = await openIncident({ monitor: "data_quality", subject: "country" });
    expect(buttonIds(card)).toEqual(
      expect.arrayContaining(["incident_runbook:clear-feature-cache", "incident_runbook:rerun-data-quality"]),
    );
    await bot.sandbox.driver.clickButton("U0OLIVIA", card, "incident_runbook:rerun-data-quality");
    const run = await eventually(
      "the run",
      async () => (await bot.runbooks.runbooks.recent({ incidentId: id }))[0],
    );
    const msg = await progress(card, run.id, (t) => t.includes("verify"));
    // No predictions in this database: the check runs (exit 0) but cannot pass.
    expect(msg.text).toContain("succeeded, exit code 0");
    expect(text(msg)).toMatch(/data_quality run \d+: (skipped|error)/);
    expect(msg.text).toContain("verify failed");
    expect(buttonIds(msg)).toEqual([]);
    const recorded = await bot.runbooks.runbooks.runById(run.id);
    expect(recorded).toMatchObject({
      status: "succeeded",
      verify: "failed",
      params: { model: "fraud-detector" },
    });
  });

  it("the on-demand monitor route the data-quality runbook calls checks its token, model and monitor", async () => {
    const post = (path: string, token?: string) =>
      fetch(`${bot.url}${path}`, {
        method: "POST",
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    expect((await post("/api/v1/models/fraud-detector/monitors/data_quality/run")).status).toBe(401);
    expect(
      (await post("/api/v1/models/fraud-detector/monitors/nonsense/run", RUNBOOK_API_TOKEN)).status,
    ).toBe(404);
    expect((await post("/api/v1/models/nosuch/monitors/data_quality/run", RUNBOOK_API_TOKEN)).status).toBe(
      404,
    );
    const ok = await post("/api/v1/models/fraud-detector/monitors/data_quality/run", RUNBOOK_API_TOKEN);
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({
      model: "fraud-detector",
      monitor: "data_quality",
      trigger: "manual",
    });
  });

  it("run without an incident, a runbook posts its progress in the channel it was started from", async () => {
    const { workspace, driver } = bot.sandbox;
    const res = await driver.command("U0OLIVIA", CHANNEL, "runbook run clear-feature-cache");
    expect(JSON.stringify(res.body)).toContain("appear in this channel");
    await bot.runbooks.runbooks.idle();
    const [run] = await bot.runbooks.runbooks.recent({ limit: 1 });
    expect(run).toMatchObject({
      runbook: "clear-feature-cache",
      incidentId: null,
      status: "succeeded",
      verify: "passed",
    });
    expect(run?.params).toEqual({ service_url: service.url }); // the one model it is for
    const msg = await eventually("the channel message", () =>
      workspace
        .messages(CHANNEL)
        .find(
          (m) =>
            m.text.startsWith(`Runbook clear-feature-cache (run ${run?.id})`) && m.text.includes("verify"),
        ),
    );
    expect(buttonIds(msg)).toEqual([]); // no incident to resolve
    expect(service.state.cacheEntries).toBe(0);
  });

  it("/mlops runbook list shows the runbooks of a model", async () => {
    const res = await bot.sandbox.driver.command("U0OLIVIA", CHANNEL, "runbook list fraud-detector");
    const body = JSON.stringify(res.body);
    for (const name of ["restart-service", "rollback-model", "clear-feature-cache", "rerun-data-quality"])
      expect(body).toContain(name);
    expect(
      JSON.stringify((await bot.sandbox.driver.command("U0OLIVIA", CHANNEL, "runbook list nosuch")).body),
    ).toContain("is not a model");
  });

  it("an L1 operator cannot point a runbook at another URL than the model's: refused, nothing runs", async () => {
    const { driver } = bot.sandbox;
    const { id } = await openIncident({ monitor: "probe", subject: "metadata" });
    const restarts = service.state.restarts;
    for (const url of ["http://169.254.169.254/latest/meta-data/", `${service.url}/../elsewhere`]) {
      const res = await driver.command(
        "U0OLIVIA",
        CHANNEL,
        `runbook run restart-service INC-${id} service_url=${url}`,
      );
      const body = JSON.stringify(res.body);
      expect(body, url).toContain("Nothing was run");
      expect(body, url).toContain("fixed to the model's service_url");
    }
    await bot.runbooks.runbooks.idle();
    expect(await bot.runbooks.runbooks.recent({ incidentId: id })).toEqual([]);
    expect(service.state.restarts).toBe(restarts);
  });

  it("a runbook clicked again while it runs for the incident is not started twice: the second click is told who runs it", async () => {
    const { workspace, driver } = bot.sandbox;
    rmSync(release, { force: true });
    const { id, ref, card } = await openIncident({ monitor: "hold", subject: "twice" });
    await driver.clickButton("U0OLIVIA", card, "incident_runbook:hold-on");
    const first = await eventually(
      "the first run",
      async () => (await bot.runbooks.runbooks.recent({ incidentId: id }))[0],
    );
    await driver.clickButton("U0OMAR", card, "incident_runbook:hold-on");
    const told = await eventually("the second clicker's answer", () =>
      workspace.ephemerals("U0OMAR").find((e) => e.text.includes("hold-on")),
    );
    expect(told.text).toContain(`\`hold-on\` is already running for ${ref}: run ${first.id}, started by`);
    expect(told.text).toContain("U0OLIVIA");
    expect(told.text).toContain("Nothing new was started");
    // By command too, and two requests that pass every check at once: the database lets one start.
    const cmd = await driver.command("U0DANA", CHANNEL, `runbook run hold-on ${ref}`);
    expect(JSON.stringify(cmd.body)).toContain("is already running");
    // Another incident's run of the same runbook is not held up by this one.
    const other = await openIncident({ monitor: "hold", subject: "elsewhere" });
    const otherCmd = await driver.command("U0DANA", CHANNEL, `runbook run hold-on ${other.ref}`);
    expect(JSON.stringify(otherCmd.body)).toContain("Started `hold-on`");
    writeFileSync(release, "");
    await bot.runbooks.runbooks.idle();
    rmSync(release, { force: true });
    const req = (actor: string) => ({
      name: "hold-on",
      incidentId: id,
      given: {},
      actor,
      via: "command" as const,
      channel: CHANNEL,
    });
    const a = await bot.runbooks.runbooks.prepare(req("U0OLIVIA"));
    const b = await bot.runbooks.runbooks.prepare(req("U0OMAR"));
    if ("refused" in a || "refused" in b) throw new Error("expected both to be allowed");
    const outcomes = await Promise.allSettled([
      bot.runbooks.runbooks.start(a, req("U0OLIVIA")),
      bot.runbooks.runbooks.start(b, req("U0OMAR")),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
    const refused = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: "runbook_already_running" });
    writeFileSync(release, "");
    await bot.runbooks.runbooks.idle();
    const runs = await bot.runbooks.runbooks.recent({ incidentId: id });
    expect(runs.map((r) => r.status)).toEqual(["succeeded", "succeeded"]); // the first, and one of the pair
    rmSync(release, { force: true });
  });

  it("a run that needs the bot's API gets a token of its own, not the bot's, and it stops working when the run ends", async () => {
    const { id } = await openIncident({ monitor: "confidence", subject: "token" });
    const res = await bot.sandbox.driver.command("U0OLIVIA", CHANNEL, `runbook run token-probe INC-${id}`);
    expect(JSON.stringify(res.body)).toContain("Started `token-probe`");
    await bot.runbooks.runbooks.idle();
    const [run] = await bot.runbooks.runbooks.recent({ incidentId: id });
    expect(run?.status).toBe("succeeded");
    expect(JSON.parse(run?.output ?? "{}")).toEqual({ status: 200, bootstrap: false, prefix: "mlops_" });
    const token = readFileSync(tokenFile, "utf8");
    expect(token).not.toBe(RUNBOOK_API_TOKEN);
    // It carried only the manifest's scopes.
    const [stored] = resultRows<{ scopes: string[] }>(
      await bot.database.db.execute(
        sql`select scopes from api_tokens where name = ${`runbook-run-${run?.id}`}`,
      ),
    );
    expect(stored?.scopes).toEqual(["read"]);
    const after = await fetch(`${bot.url}/api/v1/models/fraud-detector/runs`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(after.status).toBe(401);
  });
});
