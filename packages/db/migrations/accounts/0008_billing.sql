ALTER TABLE "bouncers" ADD COLUMN "soju_disabled" boolean;--> statement-breakpoint
ALTER TABLE "processed_stripe_events" ADD COLUMN "user_id" uuid;--> statement-breakpoint
ALTER TABLE "processed_stripe_events" ADD COLUMN "outcome" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "subscription_cancel_at_period_end" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "subscription_period_end" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "past_due_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "processed_stripe_events" ADD CONSTRAINT "processed_stripe_events_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "processed_stripe_events_user_idx" ON "processed_stripe_events" USING btree ("user_id","received_at");