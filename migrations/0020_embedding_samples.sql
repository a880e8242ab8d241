CREATE TABLE "embedding_samples" (
	"model_id" integer NOT NULL,
	"feature" text NOT NULL,
	"pool" integer NOT NULL,
	"slot" integer NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"vector" "bytea" NOT NULL,
	CONSTRAINT "embedding_samples_model_id_feature_pool_slot_pk" PRIMARY KEY("model_id","feature","pool","slot")
);
--> statement-breakpoint
ALTER TABLE "embedding_samples" ADD CONSTRAINT "embedding_samples_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE cascade ON UPDATE no action;