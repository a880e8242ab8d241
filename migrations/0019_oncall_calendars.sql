CREATE TABLE "oncall_calendars" (
	"schedule" text PRIMARY KEY NOT NULL,
	"text" text,
	"fetched_at" timestamp with time zone,
	"etag" text,
	"checked_at" timestamp with time zone NOT NULL,
	"failing_since" timestamp with time zone,
	"last_error" text
);
