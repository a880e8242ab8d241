CREATE TABLE "escalation_pages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"incident_id" integer NOT NULL,
	"step" integer NOT NULL,
	"tier" integer NOT NULL,
	"reason" text NOT NULL,
	"actor" text NOT NULL,
	"note" text,
	"state" text DEFAULT 'pending' NOT NULL,
	"lease_until" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	"done_at" timestamp with time zone,
	"members" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"mention_outbox_id" bigint
);
--> statement-breakpoint
CREATE TABLE "incident_escalations" (
	"incident_id" integer PRIMARY KEY NOT NULL,
	"model" text NOT NULL,
	"policy" jsonb NOT NULL,
	"tier" integer DEFAULT 1 NOT NULL,
	"pages_at_tier" integer DEFAULT 0 NOT NULL,
	"step" integer DEFAULT 0 NOT NULL,
	"tier_since" timestamp with time zone NOT NULL,
	"next_at" timestamp with time zone,
	"next_kind" text,
	"page_acked_at" timestamp with time zone,
	"page_acked_by" text,
	"started_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "escalation_pages" ADD CONSTRAINT "escalation_pages_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_escalations" ADD CONSTRAINT "incident_escalations_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "escalation_pages_step_idx" ON "escalation_pages" USING btree ("incident_id","step");--> statement-breakpoint
CREATE INDEX "escalation_pages_state_idx" ON "escalation_pages" USING btree ("state","created_at");--> statement-breakpoint
CREATE INDEX "incident_escalations_next_idx" ON "incident_escalations" USING btree ("next_at");