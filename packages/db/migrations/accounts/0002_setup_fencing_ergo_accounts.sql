CREATE TYPE "public"."ergo_account_origin" AS ENUM('registered', 'adopted');--> statement-breakpoint
ALTER TYPE "public"."setup_outcome" ADD VALUE 'needs_admin';--> statement-breakpoint
CREATE TABLE "ergo_accounts" (
	"account" text PRIMARY KEY NOT NULL,
	"owner_user_id" uuid NOT NULL,
	"origin" "ergo_account_origin" NOT NULL,
	"adopted_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "bouncer_setup_attempts_bouncer_attempt_uq";--> statement-breakpoint
ALTER TABLE "bouncer_setup_attempts" ADD COLUMN "bouncer_uid" text;--> statement-breakpoint
ALTER TABLE "bouncer_setup_attempts" ADD COLUMN "runner" text;--> statement-breakpoint
ALTER TABLE "bouncer_upstream_states" ADD COLUMN "bouncer_uid" text;--> statement-breakpoint
ALTER TABLE "ergo_accounts" ADD CONSTRAINT "ergo_accounts_owner_user_id_users_id_fk" FOREIGN KEY ("owner_user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ergo_accounts_owner_idx" ON "ergo_accounts" USING btree ("owner_user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "bouncer_setup_attempts_uid_attempt_uq" ON "bouncer_setup_attempts" USING btree ("bouncer_uid","attempt_no");--> statement-breakpoint
CREATE INDEX "bouncer_setup_attempts_bouncer_idx" ON "bouncer_setup_attempts" USING btree ("namespace","bouncer");