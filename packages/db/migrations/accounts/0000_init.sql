CREATE TYPE "public"."plan" AS ENUM('free', 'pro');--> statement-breakpoint
CREATE TYPE "public"."setup_outcome" AS ENUM('running', 'succeeded', 'failed');--> statement-breakpoint
CREATE TYPE "public"."setup_step" AS ENUM('read_secret', 'wait_for_soju_user', 'choose_password', 'ensure_ergo_account', 'verify_ergo_credentials', 'apply_soju_network', 'annotate', 'verify_upstream_login', 'done');--> statement-breakpoint
CREATE TABLE "admin_audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "admin_audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"actor_user_id" uuid,
	"actor_username" text NOT NULL,
	"action" text NOT NULL,
	"target" text NOT NULL,
	"reason" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "bouncer_setup_attempts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "bouncer_setup_attempts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"namespace" text NOT NULL,
	"bouncer" text NOT NULL,
	"attempt_no" integer NOT NULL,
	"step_reached" "setup_step" NOT NULL,
	"outcome" "setup_outcome" DEFAULT 'running' NOT NULL,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"duration_ms" integer
);
--> statement-breakpoint
CREATE TABLE "processed_stripe_events" (
	"event_id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"keycloak_subject" text NOT NULL,
	"username" text NOT NULL,
	"email" text,
	"display_name" text,
	"plan" "plan" DEFAULT 'free' NOT NULL,
	"stripe_customer_id" text,
	"stripe_subscription_id" text,
	"stripe_subscription_status" text,
	"content_auto_expire" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_login_at" timestamp with time zone,
	"login_count" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "users_keycloak_subject_key" UNIQUE("keycloak_subject"),
	CONSTRAINT "users_username_key" UNIQUE("username"),
	CONSTRAINT "users_stripe_customer_id_key" UNIQUE("stripe_customer_id"),
	CONSTRAINT "users_login_count_non_negative" CHECK ("users"."login_count" >= 0)
);
--> statement-breakpoint
ALTER TABLE "admin_audit_log" ADD CONSTRAINT "admin_audit_log_actor_user_id_users_id_fk" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "admin_audit_log_created_at_idx" ON "admin_audit_log" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "admin_audit_log_target_idx" ON "admin_audit_log" USING btree ("target");--> statement-breakpoint
CREATE UNIQUE INDEX "bouncer_setup_attempts_bouncer_attempt_uq" ON "bouncer_setup_attempts" USING btree ("namespace","bouncer","attempt_no");--> statement-breakpoint
CREATE INDEX "bouncer_setup_attempts_started_at_idx" ON "bouncer_setup_attempts" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "bouncer_setup_attempts_outcome_idx" ON "bouncer_setup_attempts" USING btree ("outcome");--> statement-breakpoint
CREATE INDEX "users_last_login_at_idx" ON "users" USING btree ("last_login_at");