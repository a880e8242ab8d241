ALTER TABLE "incidents" ADD COLUMN "last_update_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "update_due_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "incidents_update_due_idx" ON "incidents" USING btree ("update_due_at") WHERE "incidents"."state" <> 'resolved';