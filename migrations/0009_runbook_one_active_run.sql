-- custom: two runs left `running` for one runbook and incident (possible before this index) would stop it being created; all but the newest are marked interrupted.
UPDATE "runbook_runs" SET "status" = 'interrupted', "finished_at" = now() WHERE "status" = 'running' AND "id" NOT IN (SELECT max("id") FROM "runbook_runs" WHERE "status" = 'running' GROUP BY "runbook", coalesce("incident_id", 0));--> statement-breakpoint
CREATE UNIQUE INDEX "runbook_runs_one_active_idx" ON "runbook_runs" USING btree ("runbook",coalesce("incident_id", 0)) WHERE "runbook_runs"."status" = 'running';
