import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openPglite } from "../../src/db/index.js";
import { createOutboxRepository } from "../../src/outbox/index.js";
import { createRunbookRepository } from "../../src/runbooks/index.js";
import { testLogger } from "../helpers/db.js";
import { freePort, spawnBot, waitForStatus } from "../helpers/process.js";
import { runbooksDir } from "../runbooks/fixture.js";
import { eventually } from "./incidents-bot.js";

const TOKEN = "mlops_e2e_runbooks_recovery_0123456789abcdef";
const dirs: string[] = [];
const folder = runbooksDir({
  sleepy: {
    "runbook.yaml": `name: sleepy
title: Sleep a long time
description: Writes its pid, then sleeps far longer than the test waits.
when: { models: [fraud-detector] }
params:
  pidfile: { type: string, max_length: 300 }
run: [node, sleepy.mjs]
timeout: 10m
`,
    // Written whole, then renamed: a reader never sees the empty file writeFileSync starts with.
    "sleepy.mjs": `import { renameSync, writeFileSync } from "node:fs";
writeFileSync(process.env.MLOPS_PARAM_PIDFILE + ".tmp", String(process.pid));
renameSync(process.env.MLOPS_PARAM_PIDFILE + ".tmp", process.env.MLOPS_PARAM_PIDFILE);
console.log("sleeping");
setInterval(() => {}, 1000);`,
  },
});
let orphan: number | undefined;
afterAll(() => {
  if (orphan)
    try {
      process.kill(-orphan, "SIGKILL");
    } catch {
      // gone already
    }
  folder.remove();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** True while `pid` runs (a zombie awaiting its reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function api(port: number, method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const firing = {
  receiver: "mlops-bot",
  status: "firing",
  alerts: [
    {
      status: "firing",
      labels: { alertname: "FraudScorerDown", model: "fraud-detector", severity: "critical" },
      annotations: { summary: "the fraud scorer does not answer" },
      startsAt: "2030-01-01T12:00:00Z",
      endsAt: "0001-01-01T00:00:00Z",
      generatorURL: "http://prometheus.example.com/graph",
      fingerprint: "0123456789abcdef",
    },
  ],
  groupLabels: {},
  commonLabels: {},
  commonAnnotations: {},
  externalURL: "http://alertmanager.example.com",
  version: "4",
  groupKey: "{}:{}",
  truncatedAlerts: 0,
};

describe("a runbook run across a crash of the bot", () => {
  it("after SIGKILL mid-run, the restarted bot marks the run interrupted and says so in the thread", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mlops-rb-kill-"));
    dirs.push(dataDir);
    const pidfile = join(dataDir, "sleepy.pid");
    const port = await freePort();
    const env = {
      PORT: String(port),
      HOST: "127.0.0.1",
      MLOPS_DATA_DIR: dataDir,
      MLOPS_API_TOKEN: TOKEN,
      MLOPS_RUNBOOKS_DIR: folder.dir,
    };

    const first = spawnBot(env);
    let ref: string;
    try {
      await waitForStatus(`http://127.0.0.1:${port}/readyz`, 30_000);
      const fired = await api(port, "POST", "/api/v1/alertmanager", firing);
      expect(fired.status).toBe(200);
      ref = (fired.body.incidents as { ref: string }[])[0]?.ref as string;
      await eventually(
        "the card to be posted",
        async () => (await api(port, "GET", `/api/v1/incidents/${ref}`)).body.slack,
        15_000,
      );
      const res = await fetch(`http://127.0.0.1:${port}/sandbox/act/command`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          user: "olivia",
          channel: "fraud-alerts",
          text: `/mlops runbook run sleepy ${ref} pidfile=${pidfile}`,
        }),
      });
      expect(JSON.stringify(await res.json())).toContain("Started `sleepy`");
      await eventually("the runbook to be running", () => existsSync(pidfile), 15_000);
      orphan = Number(readFileSync(pidfile, "utf8"));
      expect(alive(orphan)).toBe(true);
    } finally {
      first.child.kill("SIGKILL");
    }
    expect((await first.exited).signal).toBe("SIGKILL");

    const second = spawnBot(env);
    try {
      await waitForStatus(`http://127.0.0.1:${port}/readyz`, 30_000);
      const incident = await api(port, "GET", `/api/v1/incidents/${ref}`);
      const events = (
        incident.body.timeline as { kind: string; actor: string; detail: Record<string, unknown> }[]
      ).filter((e) => e.kind.startsWith("runbook_"));
      expect(events.map((e) => [e.kind, e.detail.status])).toEqual([
        ["runbook_started", "running"],
        ["runbook_finished", "interrupted"],
      ]);
      expect(events[1]?.actor).toBe("U0OLIVIA");
      expect(events[1]?.detail).toMatchObject({ name: "sleepy", exitCode: null, verify: null });
      // The program outlived the killed bot (own process group); the restart ended it.
      await eventually("the orphaned program to be gone", () => !alive(orphan ?? 0), 5000);
    } finally {
      second.child.kill("SIGTERM");
    }
    expect((await second.exited).code).toBe(0);

    const database = await openPglite(dataDir, testLogger);
    try {
      const [run] = await createRunbookRepository(database.db).recent({ limit: 5 });
      expect(run).toMatchObject({ runbook: "sleepy", status: "interrupted" });
      expect(run?.finishedAt).toBeInstanceOf(Date);
      // The thread says so: the progress message edited to "interrupted", and a reply under the card.
      const outbox = createOutboxRepository(database.db);
      // The newest content of the progress message: its last edit, or the post itself when the
      // edit was folded into a post that had not gone out before the kill.
      const progress = await outbox.byId(run?.progressOutboxId ?? 0);
      const progressEdits = (await outbox.byIds([...Array(200).keys()].map((i) => i + 1))).filter(
        (r) => r.parentId === run?.progressOutboxId && r.method === "chat.update",
      );
      expect(JSON.stringify((progressEdits.at(-1) ?? progress)?.payload)).toContain("interrupted");
      const replies = (await outbox.byIds([...Array(200).keys()].map((i) => i + 1))).filter(
        (r) =>
          r.method === "chat.postMessage" &&
          r.parentId === progress?.parentId &&
          JSON.stringify(r.payload).includes("was *interrupted*") &&
          JSON.stringify(r.payload).includes("was stopped now"),
      );
      expect(replies).toHaveLength(1);
      expect(progress?.parentId).not.toBeNull();
    } finally {
      await database.close();
    }
  }, 90_000);
});
