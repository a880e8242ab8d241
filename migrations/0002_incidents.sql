CREATE TABLE "alerts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"fingerprint" text NOT NULL,
	"model" text NOT NULL,
	"monitor" text NOT NULL,
	"subject" text NOT NULL,
	"source" text NOT NULL,
	"state" text NOT NULL,
	"severity" text NOT NULL,
	"model_version" text,
	"title" text NOT NULL,
	"summary" text NOT NULL,
	"rule" text NOT NULL,
	"metrics" jsonb NOT NULL,
	"labels" jsonb NOT NULL,
	"monitor_run_id" bigint,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	"fire_count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "alerts_fingerprint_unique" UNIQUE("fingerprint")
);
--> statement-breakpoint
CREATE TABLE "silences" (
	"id" serial PRIMARY KEY NOT NULL,
	"model" text,
	"monitor" text,
	"fingerprint" text,
	"incident_id" integer,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"reason" text NOT NULL,
	"ended_at" timestamp with time zone,
	"ended_by" text,
	"expiry_noted_at" timestamp with time zone,
	CONSTRAINT "silences_has_matcher" CHECK ("silences"."model" is not null or "silences"."monitor" is not null or "silences"."fingerprint" is not null)
);
--> statement-breakpoint
CREATE TABLE "incident_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"incident_id" integer NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"kind" text NOT NULL,
	"actor" text NOT NULL,
	"via" text NOT NULL,
	"detail" jsonb NOT NULL,
	"outbox_id" bigint
);
--> statement-breakpoint
CREATE TABLE "incidents" (
	"id" serial PRIMARY KEY NOT NULL,
	"fingerprint" text NOT NULL,
	"alert_id" bigint NOT NULL,
	"model" text NOT NULL,
	"monitor" text NOT NULL,
	"subject" text NOT NULL,
	"model_version" text,
	"title" text NOT NULL,
	"severity" text NOT NULL,
	"state" text NOT NULL,
	"channel" text NOT NULL,
	"card_outbox_id" bigint,
	"assignee" text,
	"opened_at" timestamp with time zone NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" text,
	"mitigated_at" timestamp with time zone,
	"mitigated_by" text,
	"resolved_at" timestamp with time zone,
	"resolved_by" text,
	"resolution" text,
	"alert_count" integer DEFAULT 1 NOT NULL,
	"last_fired_at" timestamp with time zone NOT NULL,
	"pending_firings" integer DEFAULT 0 NOT NULL,
	"last_note_at" timestamp with time zone,
	"next_reminder_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"available_at" timestamp with time zone NOT NULL,
	"stream" text NOT NULL,
	"method" text NOT NULL,
	"channel" text NOT NULL,
	"parent_id" bigint,
	"payload" jsonb NOT NULL,
	"coalesce_key" text,
	"paced" boolean NOT NULL,
	"state" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"claimed_at" timestamp with time zone,
	"lease_until" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"result_ts" text,
	"result_channel" text,
	"last_error" text
);
--> statement-breakpoint
ALTER TABLE "incident_events" ADD CONSTRAINT "incident_events_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_events" ADD CONSTRAINT "incident_events_outbox_id_outbox_id_fk" FOREIGN KEY ("outbox_id") REFERENCES "public"."outbox"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_card_outbox_id_outbox_id_fk" FOREIGN KEY ("card_outbox_id") REFERENCES "public"."outbox"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_parent_id_outbox_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."outbox"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alerts_model_idx" ON "alerts" USING btree ("model","state");--> statement-breakpoint
CREATE INDEX "silences_active_idx" ON "silences" USING btree ("ends_at") WHERE "silences"."ended_at" is null;--> statement-breakpoint
CREATE INDEX "incident_events_incident_idx" ON "incident_events" USING btree ("incident_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_one_open_per_fingerprint" ON "incidents" USING btree ("fingerprint") WHERE "incidents"."state" <> 'resolved';--> statement-breakpoint
CREATE INDEX "incidents_state_idx" ON "incidents" USING btree ("state","opened_at");--> statement-breakpoint
CREATE INDEX "incidents_model_idx" ON "incidents" USING btree ("model","opened_at");--> statement-breakpoint
CREATE INDEX "outbox_stream_open_idx" ON "outbox" USING btree ("stream","id") WHERE "outbox"."state" in ('pending', 'sending');--> statement-breakpoint
CREATE INDEX "outbox_pending_idx" ON "outbox" USING btree ("available_at") WHERE "outbox"."state" = 'pending';--> statement-breakpoint
CREATE INDEX "outbox_paced_idx" ON "outbox" USING btree ("channel","claimed_at") WHERE "outbox"."paced";--> statement-breakpoint
CREATE INDEX "outbox_coalesce_idx" ON "outbox" USING btree ("coalesce_key") WHERE "outbox"."state" = 'pending';--> statement-breakpoint
CREATE INDEX "outbox_sending_idx" ON "outbox" USING btree ("lease_until") WHERE "outbox"."state" = 'sending';