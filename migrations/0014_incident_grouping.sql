CREATE TABLE "incident_members" (
	"incident_id" integer NOT NULL,
	"alert_id" bigint NOT NULL,
	"state" text NOT NULL,
	"joined_at" timestamp with time zone NOT NULL,
	"recovered_at" timestamp with time zone,
	"clean_runs" integer DEFAULT 0 NOT NULL,
	"last_clean_run_id" bigint,
	"flaps" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "incident_members_incident_id_alert_id_pk" PRIMARY KEY("incident_id","alert_id")
);
--> statement-breakpoint
ALTER TABLE "incident_members" ADD CONSTRAINT "incident_members_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_members" ADD CONSTRAINT "incident_members_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "incident_members_alert_idx" ON "incident_members" USING btree ("alert_id");--> statement-breakpoint
-- Incidents opened before grouping have one member: the alert that opened them.
INSERT INTO "incident_members" ("incident_id", "alert_id", "state", "joined_at", "recovered_at")
SELECT i."id", i."alert_id",
       CASE WHEN i."state" = 'resolved' THEN 'recovered' ELSE 'firing' END,
       i."opened_at",
       CASE WHEN i."state" = 'resolved' THEN i."resolved_at" END
FROM "incidents" i;
