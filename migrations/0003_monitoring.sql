CREATE TABLE "cron_claims" (
	"job" text NOT NULL,
	"tick_at" timestamp with time zone NOT NULL,
	"claimed_by" text NOT NULL,
	"claimed_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"outcome" text,
	CONSTRAINT "cron_claims_job_tick_at_pk" PRIMARY KEY("job","tick_at")
);
--> statement-breakpoint
CREATE TABLE "model_versions" (
	"id" serial PRIMARY KEY NOT NULL,
	"model_id" integer NOT NULL,
	"version" text NOT NULL,
	"is_champion" boolean DEFAULT false NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "models" (
	"id" serial PRIMARY KEY NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"task" text NOT NULL,
	"confidence_threshold" double precision NOT NULL,
	"features" jsonb NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "models_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
CREATE TABLE "monitor_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"model_id" integer NOT NULL,
	"monitor" text NOT NULL,
	"trigger" text NOT NULL,
	"status" text NOT NULL,
	"window_from" timestamp with time zone,
	"window_to" timestamp with time zone,
	"rows" integer DEFAULT 0 NOT NULL,
	"labelled_rows" integer,
	"metrics" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"rule" text DEFAULT '' NOT NULL,
	"findings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"profile_id" integer,
	"error" text,
	"started_at" timestamp with time zone NOT NULL,
	"duration_ms" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reference_profiles" (
	"id" serial PRIMARY KEY NOT NULL,
	"model_id" integer NOT NULL,
	"model_version" text,
	"source" jsonb NOT NULL,
	"rows" integer NOT NULL,
	"profile" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
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
	CONSTRAINT "predictions_model_id_request_id_pk" PRIMARY KEY("model_id","request_id")
);
--> statement-breakpoint
CREATE TABLE "reference_samples" (
	"upload_id" bigint NOT NULL,
	"model_id" integer NOT NULL,
	"request_id" text NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"model_version" text NOT NULL,
	"prediction" text NOT NULL,
	"confidence" double precision,
	"num" double precision[] NOT NULL,
	"cat" text[] NOT NULL,
	"extra" jsonb,
	"label" text
);
--> statement-breakpoint
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "monitor_runs" ADD CONSTRAINT "monitor_runs_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reference_profiles" ADD CONSTRAINT "reference_profiles_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "predictions" ADD CONSTRAINT "predictions_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reference_samples" ADD CONSTRAINT "reference_samples_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_model_version_uq" ON "model_versions" USING btree ("model_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_one_champion_uq" ON "model_versions" USING btree ("model_id") WHERE "model_versions"."is_champion";--> statement-breakpoint
CREATE INDEX "monitor_runs_model_monitor_idx" ON "monitor_runs" USING btree ("model_id","monitor","started_at");--> statement-breakpoint
CREATE INDEX "reference_profiles_model_idx" ON "reference_profiles" USING btree ("model_id","created_at");--> statement-breakpoint
CREATE INDEX "predictions_model_ts_idx" ON "predictions" USING btree ("model_id","ts");--> statement-breakpoint
CREATE INDEX "reference_samples_upload_idx" ON "reference_samples" USING btree ("upload_id");