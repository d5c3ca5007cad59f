CREATE TABLE "projection_heartbeats" (
	"replica" text PRIMARY KEY NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "bouncers" ADD COLUMN "resource" jsonb;--> statement-breakpoint
ALTER TABLE "bouncers" ADD COLUMN "resource_version" text;