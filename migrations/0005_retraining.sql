CREATE TABLE "adapter_calls" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"model" text NOT NULL,
	"retrain_request_id" integer,
	"candidate_id" integer,
	"payload" jsonb NOT NULL,
	"state" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 5 NOT NULL,
	"available_at" timestamp with time zone NOT NULL,
	"lease_until" timestamp with time zone,
	"last_error" text,
	"result" jsonb,
	"created_at" timestamp with time zone NOT NULL,
	"done_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "approvals" (
	"id" serial PRIMARY KEY NOT NULL,
	"candidate_id" integer NOT NULL,
	"user_id" text NOT NULL,
	"decision" text NOT NULL,
	"reason" text,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "candidates" (
	"id" serial PRIMARY KEY NOT NULL,
	"model" text NOT NULL,
	"version" text NOT NULL,
	"champion_version" text,
	"artifact_uri" text NOT NULL,
	"metrics" jsonb NOT NULL,
	"champion_metrics" jsonb NOT NULL,
	"business_metrics" jsonb,
	"data_window" jsonb NOT NULL,
	"run_url" text,
	"retrain_request_id" integer,
	"incident_id" integer,
	"requested_by" text,
	"reported_by" text NOT NULL,
	"state" text NOT NULL,
	"rules" jsonb NOT NULL,
	"approvals_required" integer NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"channel" text NOT NULL,
	"card_outbox_id" bigint,
	"thread_outbox_id" bigint,
	"decided_by" text,
	"decision_note" text,
	"canary_share" double precision,
	"canary_started_at" timestamp with time zone,
	"comparison" jsonb,
	"compared_at" timestamp with time zone,
	"comparison_posted_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "retrain_requests" (
	"id" serial PRIMARY KEY NOT NULL,
	"model" text NOT NULL,
	"incident_id" integer,
	"dedupe_key" text NOT NULL,
	"requested_by" text NOT NULL,
	"reason" text,
	"state" text NOT NULL,
	"thread_outbox_id" bigint,
	"run_url" text,
	"callback_token_hash" text,
	"callback_expires_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "promoted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "adapter_calls" ADD CONSTRAINT "adapter_calls_retrain_request_id_retrain_requests_id_fk" FOREIGN KEY ("retrain_request_id") REFERENCES "public"."retrain_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "adapter_calls" ADD CONSTRAINT "adapter_calls_candidate_id_candidates_id_fk" FOREIGN KEY ("candidate_id") REFERENCES "public"."candidates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_candidate_id_candidates_id_fk" FOREIGN KEY ("candidate_id") REFERENCES "public"."candidates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "candidates" ADD CONSTRAINT "candidates_retrain_request_id_retrain_requests_id_fk" FOREIGN KEY ("retrain_request_id") REFERENCES "public"."retrain_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "candidates" ADD CONSTRAINT "candidates_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "candidates" ADD CONSTRAINT "candidates_card_outbox_id_outbox_id_fk" FOREIGN KEY ("card_outbox_id") REFERENCES "public"."outbox"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "candidates" ADD CONSTRAINT "candidates_thread_outbox_id_outbox_id_fk" FOREIGN KEY ("thread_outbox_id") REFERENCES "public"."outbox"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "retrain_requests" ADD CONSTRAINT "retrain_requests_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "retrain_requests" ADD CONSTRAINT "retrain_requests_thread_outbox_id_outbox_id_fk" FOREIGN KEY ("thread_outbox_id") REFERENCES "public"."outbox"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "adapter_calls_due_idx" ON "adapter_calls" USING btree ("available_at") WHERE "adapter_calls"."state" in ('pending', 'calling');--> statement-breakpoint
CREATE UNIQUE INDEX "approvals_candidate_user_uq" ON "approvals" USING btree ("candidate_id","user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "candidates_model_version_uq" ON "candidates" USING btree ("model","version");--> statement-breakpoint
CREATE UNIQUE INDEX "candidates_one_canary_uq" ON "candidates" USING btree ("model") WHERE "candidates"."state" in ('canary_starting', 'canary', 'promoting', 'rolling_back');--> statement-breakpoint
CREATE INDEX "candidates_state_idx" ON "candidates" USING btree ("state","expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "retrain_requests_one_active_uq" ON "retrain_requests" USING btree ("dedupe_key") WHERE "retrain_requests"."state" in ('pending', 'triggered');--> statement-breakpoint
CREATE INDEX "retrain_requests_model_idx" ON "retrain_requests" USING btree ("model","id");