/**
 * Queries on `/mlops status` and the escalation page read a bounded number of rows whatever the
 * history: checked on the query plan of a model with 120,000 runs (rows actually read from
 * monitor_runs), not by timing.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resultRows } from "../../src/db/client.js";
import type { Database } from "../../src/db/index.js";
import { MONITOR_KINDS } from "../../src/monitoring/model.js";
import {
  createMonitoringRepository,
  lastScheduledRunQuery,
  recentRunsQuery,
} from "../../src/monitoring/repository.js";
import { openTestDatabase } from "../helpers/db.js";

let database: Database;
let modelId: number;
const RUNS = 120_000;

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Actual Rows": number;
  "Actual Loops": number;
  Plans?: PlanNode[];
}

/** Rows the plan's scans of `relation` produced, over all loops. */
function rowsRead(node: PlanNode, relation: string): { rows: number; seq: boolean } {
  let rows = node["Relation Name"] === relation ? node["Actual Rows"] * node["Actual Loops"] : 0;
  let seq = node["Relation Name"] === relation && node["Node Type"] === "Seq Scan";
  for (const child of node.Plans ?? []) {
    const r = rowsRead(child, relation);
    rows += r.rows;
    seq ||= r.seq;
  }
  return { rows, seq };
}

beforeAll(async () => {
  database = await openTestDatabase();
  const [m] = resultRows<{ id: number }>(
    await database.db.execute(sql`insert into models (slug, name, task, confidence_threshold, features)
      values ('big', 'Big', 'binary_classification', 0.75, '[]'::jsonb) returning id`),
  );
  modelId = m?.id as number;
  await database.db.execute(sql`
    insert into monitor_runs (model_id, monitor, trigger, status, started_at, duration_ms)
    select ${modelId}, (${`{${MONITOR_KINDS.join(",")}}`}::text[])[1 + i % ${MONITOR_KINDS.length}], 'schedule',
      case when i % 7 = 0 then 'skipped' else 'ok' end,
      timestamptz '2026-01-01' + i * interval '1 minute', 5
    from generate_series(1, ${RUNS}) as i`);
  await database.db.execute(sql`analyze monitor_runs`);
});

afterAll(async () => {
  await database.close();
});

describe("bounded hot paths with a large history", () => {
  it("the newest runs per monitor read at most a few rows per monitor, never the whole history", async () => {
    const runs = await createMonitoringRepository(database.db).recentRuns(modelId, 8);
    expect(runs.length).toBe(MONITOR_KINDS.length * 8);
    expect(runs[0]?.started_at.getTime()).toBeGreaterThan(Date.parse("2026-03-01"));
    const [plan] = resultRows<{ "QUERY PLAN": { Plan: PlanNode }[] | string }>(
      await database.db.execute(sql`explain (analyze, format json) ${recentRunsQuery(modelId, 8)}`),
    );
    const raw = plan?.["QUERY PLAN"];
    const tree = (typeof raw === "string" ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
    const read = rowsRead((tree[0] as { Plan: PlanNode }).Plan, "monitor_runs");
    expect(read.seq).toBe(false);
    // Each probe stops after its 8 rows (+1: the sort by id within equal times reads one past the group).
    expect(read.rows).toBeLessThanOrEqual(MONITOR_KINDS.length * 9);
  });

  it("the dead-man's switch finds a monitor's newest scheduled run reading a handful of rows", async () => {
    const last = await createMonitoringRepository(database.db).lastScheduledRun(modelId, "drift");
    expect(last?.getTime()).toBeGreaterThan(Date.parse("2026-03-01"));
    const [plan] = resultRows<{ "QUERY PLAN": { Plan: PlanNode }[] | string }>(
      await database.db.execute(
        sql`explain (analyze, format json) ${lastScheduledRunQuery(modelId, "drift")}`,
      ),
    );
    const raw = plan?.["QUERY PLAN"];
    const tree = (typeof raw === "string" ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
    const read = rowsRead((tree[0] as { Plan: PlanNode }).Plan, "monitor_runs");
    expect(read.seq).toBe(false);
    expect(read.rows).toBeLessThanOrEqual(5);
  });
});
