CREATE TYPE "public"."import_item_kind" AS ENUM('bouncer', 'ready', 'network', 'channel');--> statement-breakpoint
CREATE TYPE "public"."import_item_state" AS ENUM('pending', 'applying', 'done', 'skipped', 'failed');--> statement-breakpoint
CREATE TYPE "public"."import_job_state" AS ENUM('draft', 'queued', 'running', 'succeeded', 'failed');--> statement-breakpoint
CREATE TABLE "import_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"job_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"kind" "import_item_kind" NOT NULL,
	"network" text,
	"channel" text,
	"selected" boolean DEFAULT true NOT NULL,
	"spec" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"sealed" text,
	"state" "import_item_state" DEFAULT 'pending' NOT NULL,
	"detail" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "import_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"state" "import_job_state" DEFAULT 'draft' NOT NULL,
	"bouncer" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "import_items" ADD CONSTRAINT "import_items_job_id_import_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."import_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "import_jobs" ADD CONSTRAINT "import_jobs_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "import_items_job_position_key" ON "import_items" USING btree ("job_id","position");--> statement-breakpoint
CREATE INDEX "import_jobs_user_idx" ON "import_jobs" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "import_jobs_state_idx" ON "import_jobs" USING btree ("state");--> statement-breakpoint
CREATE UNIQUE INDEX "import_jobs_one_active_per_user" ON "import_jobs" USING btree ("user_id") WHERE "import_jobs"."state" in ('queued', 'running');