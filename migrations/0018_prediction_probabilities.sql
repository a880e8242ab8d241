ALTER TABLE "predictions" ADD COLUMN "probabilities" jsonb;--> statement-breakpoint
ALTER TABLE "reference_samples" ADD COLUMN "probabilities" jsonb;