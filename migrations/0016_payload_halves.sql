CREATE TABLE "payload_halves" (
	"model_id" integer NOT NULL,
	"event_id" text NOT NULL,
	"request" jsonb,
	"request_time" timestamp with time zone,
	"response" jsonb,
	"response_time" timestamp with time zone,
	"received_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"paired_at" timestamp with time zone,
	"expired_at" timestamp with time zone,
	CONSTRAINT "payload_halves_model_id_event_id_pk" PRIMARY KEY("model_id","event_id")
);
--> statement-breakpoint
ALTER TABLE "payload_halves" ADD CONSTRAINT "payload_halves_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "payload_halves_waiting_idx" ON "payload_halves" USING btree ("expires_at") WHERE "payload_halves"."paired_at" is null and "payload_halves"."expired_at" is null;