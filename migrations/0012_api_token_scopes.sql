ALTER TABLE "api_tokens" DROP CONSTRAINT "api_tokens_name_unique";--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "scopes" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_active_name" ON "api_tokens" USING btree ("name") WHERE "api_tokens"."revoked_at" is null;--> statement-breakpoint
-- custom: `bootstrap` is now reserved for MLOPS_API_TOKEN; a stored token of that name keeps working under a new name.
UPDATE "api_tokens" SET "name" = 'bootstrap-renamed-' || "id" WHERE "name" = 'bootstrap';
