CREATE TABLE "label_stats" (
	"model_id" integer PRIMARY KEY NOT NULL,
	"unmatched" bigint DEFAULT 0 NOT NULL,
	"joined_late" bigint DEFAULT 0 NOT NULL,
	"last_unmatched_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "maintenance_state" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pending_labels" (
	"model_id" integer NOT NULL,
	"request_id" text NOT NULL,
	"label" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	CONSTRAINT "pending_labels_model_id_request_id_pk" PRIMARY KEY("model_id","request_id")
);
--> statement-breakpoint
CREATE TABLE "profile_receipts" (
	"model_id" integer NOT NULL,
	"profile_id" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	CONSTRAINT "profile_receipts_model_id_profile_id_pk" PRIMARY KEY("model_id","profile_id")
);
--> statement-breakpoint
CREATE TABLE "rollup_deltas" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"model_id" integer NOT NULL,
	"segment" text DEFAULT '' NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"model_version" text NOT NULL,
	"data" json NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rollups" (
	"model_id" integer NOT NULL,
	"segment" text DEFAULT '' NOT NULL,
	"grain" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"model_version" text NOT NULL,
	"rows" bigint NOT NULL,
	"data" json NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rollups_model_id_segment_grain_bucket_model_version_pk" PRIMARY KEY("model_id","segment","grain","bucket","model_version")
);
--> statement-breakpoint
-- predictions becomes partitioned by day on ts. Existing rows move over: the old table is
-- renamed, one partition is made for each UTC day it holds, the rows are copied, and the old
-- table is dropped. The rollups of those rows are backfilled at the next start (src/rollups/backfill.ts).
ALTER TABLE "predictions" RENAME TO "predictions_legacy";--> statement-breakpoint
ALTER TABLE "predictions_legacy" RENAME CONSTRAINT "predictions_model_id_request_id_pk" TO "predictions_legacy_pk";--> statement-breakpoint
ALTER TABLE "predictions_legacy" RENAME CONSTRAINT "predictions_model_id_models_id_fk" TO "predictions_legacy_model_fk";--> statement-breakpoint
ALTER INDEX "predictions_model_ts_idx" RENAME TO "predictions_legacy_model_ts_idx";--> statement-breakpoint
CREATE TABLE "predictions" (
	"model_id" integer NOT NULL,
	"request_id" text NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"model_version" text NOT NULL,
	"prediction" text NOT NULL,
	"confidence" double precision,
	"num" double precision[] NOT NULL,
	"cat" text[] NOT NULL,
	"extra" jsonb,
	"label" text,
	"labelled_at" timestamp with time zone,
	"ingested_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "predictions_model_id_request_id_ts_pk" PRIMARY KEY("model_id","request_id","ts")
) PARTITION BY RANGE ("ts");--> statement-breakpoint
ALTER TABLE "predictions" ADD CONSTRAINT "predictions_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "predictions_model_ts_idx" ON "predictions" USING btree ("model_id","ts");--> statement-breakpoint
DO $$
DECLARE d date;
BEGIN
  FOR d IN SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date FROM predictions_legacy LOOP
    EXECUTE format(
      'CREATE TABLE %I PARTITION OF predictions FOR VALUES FROM (%L) TO (%L)',
      'predictions_p' || to_char(d, 'YYYYMMDD'),
      (d::timestamp AT TIME ZONE 'UTC'),
      ((d + 1)::timestamp AT TIME ZONE 'UTC'));
  END LOOP;
END $$;--> statement-breakpoint
INSERT INTO "predictions" SELECT * FROM "predictions_legacy";--> statement-breakpoint
INSERT INTO "maintenance_state" ("key", "value") SELECT 'rollup_backfill', 'pending' WHERE EXISTS (SELECT 1 FROM "predictions_legacy");--> statement-breakpoint
DROP TABLE "predictions_legacy";--> statement-breakpoint
ALTER TABLE "label_stats" ADD CONSTRAINT "label_stats_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pending_labels" ADD CONSTRAINT "pending_labels_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "profile_receipts" ADD CONSTRAINT "profile_receipts_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollup_deltas" ADD CONSTRAINT "rollup_deltas_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollups" ADD CONSTRAINT "rollups_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "pending_labels_received_idx" ON "pending_labels" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "profile_receipts_received_idx" ON "profile_receipts" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "rollup_deltas_model_bucket_idx" ON "rollup_deltas" USING btree ("model_id","bucket");--> statement-breakpoint
CREATE INDEX "rollups_grain_bucket_idx" ON "rollups" USING btree ("grain","bucket");--> statement-breakpoint
CREATE INDEX "cron_claims_claimed_idx" ON "cron_claims" USING btree ("claimed_at");--> statement-breakpoint
CREATE INDEX "incident_events_at_idx" ON "incident_events" USING btree ("at");--> statement-breakpoint
CREATE INDEX "monitor_runs_started_idx" ON "monitor_runs" USING btree ("started_at");