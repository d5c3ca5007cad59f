CREATE TYPE "public"."upstream_auth_state" AS ENUM('authenticated', 'unauthenticated', 'disconnected', 'unknown');--> statement-breakpoint
CREATE TABLE "bouncer_upstream_states" (
	"namespace" text NOT NULL,
	"bouncer" text NOT NULL,
	"state" "upstream_auth_state" NOT NULL,
	"account" text,
	"detail" text,
	"checked_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bouncer_upstream_states_pk" PRIMARY KEY("namespace","bouncer")
);
