CREATE TABLE "runbook_runs" (
	"id" serial PRIMARY KEY NOT NULL,
	"runbook" text NOT NULL,
	"incident_id" integer,
	"model" text,
	"actor" text NOT NULL,
	"via" text NOT NULL,
	"params" jsonb NOT NULL,
	"status" text NOT NULL,
	"exit_code" integer,
	"signal" text,
	"duration_ms" integer,
	"output" text DEFAULT '' NOT NULL,
	"output_omitted" integer DEFAULT 0 NOT NULL,
	"verify" text,
	"verify_exit_code" integer,
	"verify_output" text,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"owner" text NOT NULL,
	"heartbeat_at" timestamp with time zone NOT NULL,
	"channel" text NOT NULL,
	"progress_outbox_id" bigint
);
--> statement-breakpoint
ALTER TABLE "runbook_runs" ADD CONSTRAINT "runbook_runs_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runbook_runs" ADD CONSTRAINT "runbook_runs_progress_outbox_id_outbox_id_fk" FOREIGN KEY ("progress_outbox_id") REFERENCES "public"."outbox"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "runbook_runs_running_idx" ON "runbook_runs" USING btree ("heartbeat_at") WHERE "runbook_runs"."status" = 'running';--> statement-breakpoint
CREATE INDEX "runbook_runs_incident_idx" ON "runbook_runs" USING btree ("incident_id","id");