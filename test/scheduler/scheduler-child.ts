/**
 * One scheduler replica for scheduler.test.ts: `tsx scheduler-child.ts <database-url> <name> <run-ms> <lifetime-ms>`.
 * Runs job `probe-job` every second; each run records itself in `sched_runs` and lasts <run-ms>.
 */
import postgres from "postgres";
import { openPostgres } from "../../src/db/index.js";
import { createScheduler } from "../../src/scheduler/index.js";
import { systemClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";

const [url, name, runMs, lifetimeMs] = process.argv.slice(2);
if (!url || !name) throw new Error("usage: scheduler-child.ts <database-url> <name> <run-ms> <lifetime-ms>");
const logger = createLogger("silent");
const database = openPostgres(url, logger, { max: 3 });
const raw = postgres(url, { max: 1, onnotice: () => {} });
const scheduler = createScheduler({ db: database.db, clock: systemClock, logger, instanceId: name });
scheduler.add({
  name: "probe-job",
  cron: "* * * * * *",
  async run(tickAt) {
    const started = new Date();
    await new Promise((r) => setTimeout(r, Number(runMs)));
    await raw`insert into sched_runs (tick_at, replica, started_at, finished_at) values (${tickAt}, ${name}, ${started}, ${new Date()})`;
  },
});
scheduler.start();
process.stdout.write("started\n");
await new Promise((r) => setTimeout(r, Number(lifetimeMs)));
await scheduler.stop();
await raw.end();
await database.close();
process.stdout.write("stopped\n");
