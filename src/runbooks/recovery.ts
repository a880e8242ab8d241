import { createIncidentRepository } from "../incidents/index.js";
import { auditRunbook, eventDetail, placeOf, type RunbookDeps, type RunbookLimits } from "./deps.js";
import { RUNBOOK_EVENTS, type Runbook, type RunbookRun } from "./model.js";
import { createRunbookRepository } from "./repository.js";
import { revokeRunToken } from "./run-tokens.js";

/**
 * Marks `interrupted` the runs a dead process left `running` and says so in their threads.
 * On PGlite every such run is dead (one process per data directory); on Postgres only those
 * whose heartbeat stopped, since another replica may be running the rest. A program that outlived
 * its bot on this host is ended.
 */
export async function recoverInterrupted(
  deps: RunbookDeps,
  limits: RunbookLimits,
  byName: ReadonlyMap<string, Runbook>,
): Promise<RunbookRun[]> {
  const { db, clock, notifier, logger } = deps;
  const now = clock.now();
  const stale = deps.databaseKind === "pglite" ? undefined : new Date(now.getTime() - limits.staleAfterMs);
  const runs = await db.transaction(async (tx) => {
    const found = await createRunbookRepository(tx).interruptOrphans(now, stale, deps.livenessHeartbeatMs);
    const host = deps.owner.split(":")[0];
    for (const run of found) {
      await revokeRunToken(tx, run.id, now);
      // Its program may outlive the bot (it leads its own process group): end it when it is ours.
      const ended =
        run.pid !== null && run.owner.split(":")[0] === host
          ? deps.runner.endOrphan(run.pid, `MLOPS_RUN_ID=${run.id}`)
          : false;
      const incident = run.incidentId
        ? ((await createIncidentRepository(tx).byId(run.incidentId)) ?? null)
        : null;
      const place = placeOf(run, incident);
      const outboxId = await notifier.updateProgress(tx, place, byName.get(run.runbook), run);
      await notifier.reply(
        tx,
        place,
        `:warning: Runbook \`${run.runbook}\` (run ${run.id}) was *interrupted*: the bot stopped while it ran, so its result is unknown${ended ? " (its program, still running, was stopped now)" : ""}. Check before running it again.`,
      );
      if (incident)
        await createIncidentRepository(tx).addEvent({
          incidentId: incident.id,
          at: now,
          kind: RUNBOOK_EVENTS.finished,
          actor: run.actor,
          via: "schedule",
          detail: eventDetail(run),
          outboxId,
        });
      await auditRunbook(tx, "system", "runbook.interrupted", `${run.runbook}#${run.id}`, "error", {
        owner: run.owner,
        programEnded: ended,
      });
    }
    return found;
  });
  if (runs.length) {
    logger.warn(
      { runs: runs.map((r) => r.id) },
      "runbook runs left running by a stopped process marked interrupted",
    );
    notifier.wake();
  }
  return runs;
}
