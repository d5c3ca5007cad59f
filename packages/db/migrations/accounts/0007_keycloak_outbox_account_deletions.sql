CREATE TYPE "public"."account_deletion_step" AS ENUM('bouncers', 'ergo_account', 'ergo_secret', 'subscription', 'keycloak_user', 'accounts_rows', 'done');--> statement-breakpoint
CREATE TYPE "public"."keycloak_sync_reason" AS ENUM('login', 'profile', 'plan', 'admin_retry');--> statement-breakpoint
CREATE TABLE "account_deletions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"keycloak_subject" text,
	"username" text,
	"stripe_customer_id" text,
	"stripe_subscription_id" text,
	"step" "account_deletion_step" DEFAULT 'bouncers' NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	CONSTRAINT "account_deletions_user_id_key" UNIQUE("user_id")
);
--> statement-breakpoint
CREATE TABLE "keycloak_outbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "keycloak_outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"user_id" uuid NOT NULL,
	"reason" "keycloak_sync_reason" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_attempt_at" timestamp with time zone,
	"last_error" text,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "keycloak_outbox" ADD CONSTRAINT "keycloak_outbox_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "account_deletions_pending_idx" ON "account_deletions" USING btree ("next_attempt_at") WHERE "account_deletions"."completed_at" is null;--> statement-breakpoint
CREATE INDEX "keycloak_outbox_pending_user_idx" ON "keycloak_outbox" USING btree ("user_id","id") WHERE "keycloak_outbox"."delivered_at" is null;--> statement-breakpoint
CREATE INDEX "keycloak_outbox_pending_due_idx" ON "keycloak_outbox" USING btree ("next_attempt_at") WHERE "keycloak_outbox"."delivered_at" is null;--> statement-breakpoint
-- Wake the worker's leader as soon as a change commits (it also polls, so a missed
-- notification only delays a push). No payload: the drain reads the table.
CREATE FUNCTION "irc_now_notify_keycloak_outbox"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('irc_now_keycloak_outbox', '');
	RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "keycloak_outbox_notify" AFTER INSERT ON "keycloak_outbox"
	FOR EACH STATEMENT EXECUTE FUNCTION "irc_now_notify_keycloak_outbox"();--> statement-breakpoint
CREATE FUNCTION "irc_now_notify_account_deletions"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('irc_now_account_deletions', '');
	RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "account_deletions_notify" AFTER INSERT ON "account_deletions"
	FOR EACH STATEMENT EXECUTE FUNCTION "irc_now_notify_account_deletions"();
