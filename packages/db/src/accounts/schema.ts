import { sql } from "drizzle-orm";
import { check, index, pgEnum, pgTable, primaryKey, uniqueIndex } from "drizzle-orm/pg-core";

// The portal's own database. Column names are snake_case (drizzle `casing: "snake_case"`).

export const plan = pgEnum("plan", ["free", "pro"]);

export const users = pgTable(
  "users",
  (t) => ({
    id: t.uuid().primaryKey().defaultRandom(),
    /** Keycloak `sub`: the identity; username/email may change in Keycloak. */
    keycloakSubject: t.text().notNull().unique("users_keycloak_subject_key"),
    /** irc.now username = soju username = ergo account. */
    username: t.text().notNull().unique("users_username_key"),
    email: t.text(),
    displayName: t.text(),
    plan: plan().notNull().default("free"),
    stripeCustomerId: t.text().unique("users_stripe_customer_id_key"),
    stripeSubscriptionId: t.text(),
    stripeSubscriptionStatus: t.text(),
    /** Pro setting: expire stored messages after 90 days. */
    contentAutoExpire: t.boolean().notNull().default(true),
    createdAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
    lastLoginAt: t.timestamp({ withTimezone: true }),
    loginCount: t.integer().notNull().default(0),
    /**
     * Server-side session cutoff: a session issued before this instant is refused on every
     * request (set on sign-out, so a copied session cookie stops working). Null: no cutoff.
     */
    sessionsValidAfter: t.timestamp({ withTimezone: true }),
    /** The subscription's `cancel_at_period_end` as last read from Stripe. */
    subscriptionCancelAtPeriodEnd: t.boolean().notNull().default(false),
    /** End of the current billing period (Stripe: `items.data[0].current_period_end`). */
    subscriptionPeriodEnd: t.timestamp({ withTimezone: true }),
    /** When the subscription first went `past_due` in its current run of failures. */
    pastDueSince: t.timestamp({ withTimezone: true }),
  }),
  (table) => [
    index("users_last_login_at_idx").on(table.lastLoginAt),
    check("users_login_count_non_negative", sql`${table.loginCount} >= 0`),
  ],
);

/** Steps of the worker's upstream setup, in order (DESIGN.md §2 "Upstream setup"). */
export const setupStep = pgEnum("setup_step", [
  "read_secret",
  "wait_for_soju_user",
  "choose_password",
  "ensure_ergo_account",
  "verify_ergo_credentials",
  "apply_soju_network",
  "annotate",
  "verify_upstream_login",
  "done",
]);

/**
 * `needs_admin`: a permanent failure (an ergo account the portal does not own, a username ergo
 * reserves, a configuration error): the worker parks the bouncer instead of retrying until an
 * admin acts (adopt the account, fix the configuration, retry).
 */
export const setupOutcome = pgEnum("setup_outcome", [
  "running",
  "succeeded",
  "failed",
  "needs_admin",
]);

export const bouncerSetupAttempts = pgTable(
  "bouncer_setup_attempts",
  (t) => ({
    id: t.bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    namespace: t.text().notNull(),
    /** The CR's name, for display; a later bouncer of the same name has another uid. */
    bouncer: t.text().notNull(),
    /** The CR's `metadata.uid`: the key of a bouncer's history (null only on rows before 0002). */
    bouncerUid: t.text(),
    /** 1, 2, 3… per bouncer (uid). */
    attemptNo: t.integer().notNull(),
    stepReached: setupStep().notNull(),
    outcome: setupOutcome().notNull().default("running"),
    /** Error text, scrubbed of secrets before it is written. */
    error: t.text(),
    startedAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
    finishedAt: t.timestamp({ withTimezone: true }),
    durationMs: t.integer(),
    /** The worker replica that ran it (its lease identity). */
    runner: t.text(),
  }),
  (table) => [
    uniqueIndex("bouncer_setup_attempts_uid_attempt_uq").on(table.bouncerUid, table.attemptNo),
    index("bouncer_setup_attempts_bouncer_idx").on(table.namespace, table.bouncer),
    index("bouncer_setup_attempts_started_at_idx").on(table.startedAt),
    index("bouncer_setup_attempts_outcome_idx").on(table.outcome),
  ],
);

export const upstreamAuthState = pgEnum("upstream_auth_state", [
  "authenticated",
  "unauthenticated",
  "disconnected",
  "unknown",
]);

/**
 * The latest verified upstream-authentication state of each bouncer (written by the worker's
 * setup step 6 and its periodic verifier; read by the dashboard and the admin console).
 * "configured" (the CR annotation) and "authenticated" (this row) are different facts.
 */
export const bouncerUpstreamStates = pgTable(
  "bouncer_upstream_states",
  (t) => ({
    namespace: t.text().notNull(),
    bouncer: t.text().notNull(),
    /** uid of the CR this state was observed on: readers ignore a row of an earlier namesake. */
    bouncerUid: t.text(),
    state: upstreamAuthState().notNull(),
    /** The ergo account the bouncer's nick is logged in as, when authenticated. */
    account: t.text(),
    /** Why it is not authenticated, in plain words, free of secrets. */
    detail: t.text(),
    checkedAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
  }),
  (table) => [
    primaryKey({ name: "bouncer_upstream_states_pk", columns: [table.namespace, table.bouncer] }),
  ],
);

export const ergoAccountOrigin = pgEnum("ergo_account_origin", ["registered", "adopted"]);

/**
 * ergo accounts the portal owns (DESIGN.md §2 step 3). The worker resets the password of an
 * existing ergo account only when it is listed here for the same user; any other existing
 * account (staff, bots, earlier registrations) is left alone and the setup waits for an admin.
 */
export const ergoAccounts = pgTable(
  "ergo_accounts",
  (t) => ({
    /** The account name as ergo compares it (lowercase: usernames are lowercase ASCII). */
    account: t.text().primaryKey(),
    ownerUserId: t
      .uuid()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** `registered`: the portal's SAREGISTER created it; `adopted`: it existed and was claimed. */
    origin: ergoAccountOrigin().notNull(),
    /** Who adopted it (admin username, or `adopt-existing` for the migration command). */
    adoptedBy: t.text(),
    createdAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
  }),
  (table) => [index("ergo_accounts_owner_idx").on(table.ownerUserId)],
);

/**
 * Stripe delivers events at least once: an event id lands here exactly once, in the transaction
 * of its effect. Also the user's billing history (admin console).
 */
export const processedStripeEvents = pgTable(
  "processed_stripe_events",
  (t) => ({
    eventId: t.text().primaryKey(),
    type: t.text().notNull(),
    receivedAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** The portal user the event was about; null when it was not ours (or the user is gone). */
    userId: t.uuid().references(() => users.id, { onDelete: "set null" }),
    /** What it did, in words for admins (e.g. "plan free → pro"), no secrets. */
    outcome: t.text(),
  }),
  (table) => [index("processed_stripe_events_user_idx").on(table.userId, table.receivedAt)],
);

export const adminAuditLog = pgTable(
  "admin_audit_log",
  (t) => ({
    id: t.bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    /** Kept when the admin's user row is deleted: an audit trail must outlive its actors. */
    actorUserId: t.uuid().references(() => users.id, { onDelete: "set null" }),
    actorUsername: t.text().notNull(),
    action: t.text().notNull(),
    /** What was acted on, e.g. `sojubouncer/irc-now/alice`. */
    target: t.text().notNull(),
    reason: t.text(),
    details: t.jsonb().$type<Record<string, unknown>>().notNull().default({}),
    createdAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
  }),
  (table) => [
    index("admin_audit_log_created_at_idx").on(table.createdAt),
    index("admin_audit_log_target_idx").on(table.target),
  ],
);

/**
 * Counters of rate-limiter-flexible's Postgres store (the library's own column layout; the
 * table is created here, not by the library, so the web's DB role needs no DDL rights).
 */
export const rateLimits = pgTable("rate_limits", (t) => ({
  key: t.varchar({ length: 255 }).primaryKey(),
  points: t.integer().notNull().default(0),
  /** Epoch milliseconds at which the counter resets (null: never). */
  expire: t.bigint({ mode: "number" }),
}));

/**
 * The portal's projection of every SojuBouncer (kept by the worker's watch, written by the
 * web on create/delete): who owns a bouncer, its soju username and whether it is suspended,
 * without a Kubernetes call (soju's `auth http` endpoint reads it on every client login).
 */
export const bouncers = pgTable(
  "bouncers",
  (t) => ({
    namespace: t.text().notNull(),
    name: t.text().notNull(),
    /** The CR's `metadata.uid`: a later bouncer of the same name replaces the row. */
    uid: t.text().notNull(),
    /** The owner label as a portal user; null when the label names no user. */
    ownerId: t.uuid().references(() => users.id, { onDelete: "cascade" }),
    sojuUsername: t.text().notNull(),
    /** Set while the bouncer is suspended (e.g. over the free quota after losing pro). */
    suspendedAt: t.timestamp({ withTimezone: true }),
    suspendedReason: t.text(),
    /**
     * What the worker last applied to the bouncer's soju user: true = disabled (suspended),
     * false = enabled, null = never touched. The worker reconciles it with `suspendedAt`.
     */
    sojuDisabled: t.boolean(),
    createdAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** When the projection last saw the CR. */
    observedAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
    /**
     * The CR as last seen (metadata name/uid/labels/annotations/timestamps, spec, status): the
     * dashboard's read path builds its views from it instead of asking Kubernetes.
     */
    resource: t.jsonb().$type<Record<string, unknown>>(),
    /** `metadata.resourceVersion` of `resource`. */
    resourceVersion: t.text(),
  }),
  (table) => [
    primaryKey({ name: "bouncers_pk", columns: [table.namespace, table.name] }),
    index("bouncers_owner_idx").on(table.ownerId),
  ],
);

/**
 * Each worker replica's last successful projection sync (its SojuBouncer watch is up and has
 * written what it saw). Readers of the projection call it stale when the newest is too old.
 */
export const projectionHeartbeats = pgTable("projection_heartbeats", (t) => ({
  replica: t.text().primaryKey(),
  syncedAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
}));

/**
 * IRC app passwords (DESIGN.md §2 "Logging in to a bouncer from an IRC client"): per device,
 * shown once; only `lookup` (the token's public id part) and a keyed hash of the whole token
 * are stored.
 */
export const appPasswords = pgTable(
  "app_passwords",
  (t) => ({
    id: t.uuid().primaryKey().defaultRandom(),
    userId: t
      .uuid()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    label: t.text().notNull(),
    /** The token's public id part: the one indexed lookup of the auth endpoint. */
    lookup: t.text().notNull().unique("app_passwords_lookup_key"),
    /** Keyed hash of the whole token (hex). */
    secretHash: t.text().notNull(),
    /** Scope: one bouncer of the user's, or null for all of them. */
    bouncer: t.text(),
    createdAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: t.timestamp({ withTimezone: true }),
    revokedAt: t.timestamp({ withTimezone: true }),
    lastUsedAt: t.timestamp({ withTimezone: true }),
    /** The client address soju forwarded on the last successful login. */
    lastUsedFrom: t.text(),
  }),
  (table) => [index("app_passwords_user_idx").on(table.userId)],
);

/**
 * Imports from IRCCloud (issue 15). A job is a `draft` from the preview (what IRCCloud sent,
 * minus the IRCCloud credentials and session, which are never stored) until the user starts it;
 * then `queued` → `running` (the worker's leader) → `succeeded` or `failed`. One active job per
 * user. Network and NickServ passwords and channel keys are sealed (AES-GCM, IMPORT_SECRET_KEY)
 * and erased as soon as their item is applied, or when the job ends.
 */
export const importJobState = pgEnum("import_job_state", [
  "draft",
  "queued",
  "running",
  "succeeded",
  "failed",
]);

export const importJobs = pgTable(
  "import_jobs",
  (t) => ({
    id: t.uuid().primaryKey().defaultRandom(),
    userId: t
      .uuid()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    state: importJobState().notNull().default("draft"),
    /** The bouncer the import goes into (set when the job starts). */
    bouncer: t.text(),
    /** Why the whole job stopped, in words for the user (no secrets). */
    error: t.text(),
    createdAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
    startedAt: t.timestamp({ withTimezone: true }),
    finishedAt: t.timestamp({ withTimezone: true }),
  }),
  (table) => [
    index("import_jobs_user_idx").on(table.userId),
    index("import_jobs_state_idx").on(table.state),
    uniqueIndex("import_jobs_one_active_per_user")
      .on(table.userId)
      .where(sql`${table.state} in ('queued', 'running')`),
  ],
);

export const importItemKind = pgEnum("import_item_kind", [
  "bouncer",
  "ready",
  "network",
  "channel",
]);
export const importItemState = pgEnum("import_item_state", [
  "pending",
  "applying",
  "done",
  "skipped",
  "failed",
]);

/** One step of a job, in order: the bouncer, its readiness, each network, each channel. */
export const importItems = pgTable(
  "import_items",
  (t) => ({
    id: t.uuid().primaryKey().defaultRandom(),
    jobId: t
      .uuid()
      .notNull()
      .references(() => importJobs.id, { onDelete: "cascade" }),
    position: t.integer().notNull(),
    kind: importItemKind().notNull(),
    /** soju network name (network and channel items). */
    network: t.text(),
    channel: t.text(),
    /** Chosen in the preview; unselected items are dropped when the job starts. */
    selected: t.boolean().notNull().default(true),
    /** What to apply, without secrets (addr, nick, username, realname, archived, keyed…). */
    spec: t.jsonb().notNull().default({}),
    /** AES-GCM sealed secrets of this item; null once applied or when there are none. */
    sealed: t.text(),
    state: importItemState().notNull().default("pending"),
    /** What happened, in words for the user (no secrets). */
    detail: t.text(),
    updatedAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
  }),
  (table) => [uniqueIndex("import_items_job_position_key").on(table.jobId, table.position)],
);

export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type BouncerSetupAttempt = typeof bouncerSetupAttempts.$inferSelect;
export type BouncerUpstreamState = typeof bouncerUpstreamStates.$inferSelect;
export type ErgoAccount = typeof ergoAccounts.$inferSelect;
export type AdminAuditEntry = typeof adminAuditLog.$inferSelect;
export type BouncerProjection = typeof bouncers.$inferSelect;
export type AppPassword = typeof appPasswords.$inferSelect;
export type ImportJob = typeof importJobs.$inferSelect;
export type ImportItem = typeof importItems.$inferSelect;
export type KeycloakOutboxEntry = typeof keycloakOutbox.$inferSelect;
export type AccountDeletion = typeof accountDeletions.$inferSelect;

/** What made a user's state worth pushing to Keycloak (for history and the admin console). */
export const keycloakSyncReason = pgEnum("keycloak_sync_reason", [
  "login",
  "profile",
  "plan",
  "admin_retry",
]);

/**
 * The Keycloak outbox (DESIGN.md §2 "Plans and Keycloak attributes"): a row means "Keycloak must
 * learn this user's current display name, `plan` and `content_expires`". It is written in the
 * same transaction as the change, so a Keycloak outage loses nothing. The worker's leader drains
 * it in id order per user and pushes the user's state as it is at push time (never a snapshot
 * taken when the row was written): a late retry cannot overwrite a newer value, and one push
 * settles every pending row of that user up to the newest it saw.
 */
export const keycloakOutbox = pgTable(
  "keycloak_outbox",
  (t) => ({
    id: t.bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    userId: t
      .uuid()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    reason: keycloakSyncReason().notNull(),
    createdAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** Failed pushes so far (drives the capped backoff and the admin's "stuck" view). */
    attempts: t.integer().notNull().default(0),
    nextAttemptAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
    lastAttemptAt: t.timestamp({ withTimezone: true }),
    /** Why the last push failed, for admins (no secrets, no tokens). */
    lastError: t.text(),
    /** Set when a push that read this row's change succeeded; null while pending. */
    deliveredAt: t.timestamp({ withTimezone: true }),
  }),
  (table) => [
    index("keycloak_outbox_pending_user_idx")
      .on(table.userId, table.id)
      .where(sql`${table.deliveredAt} is null`),
    index("keycloak_outbox_pending_due_idx")
      .on(table.nextAttemptAt)
      .where(sql`${table.deliveredAt} is null`),
  ],
);

/**
 * Steps of deleting an account, in order. Each is idempotent; the worker resumes a deletion at
 * its recorded step after a crash.
 */
export const accountDeletionStep = pgEnum("account_deletion_step", [
  "bouncers",
  "ergo_account",
  "ergo_secret",
  "subscription",
  "keycloak_user",
  "accounts_rows",
  "done",
]);

/**
 * Account deletions the user asked for. Outlives the user row (no foreign key: the last step
 * deletes it) so that a crash half-way resumes; identifying fields are cleared when it is done.
 */
export const accountDeletions = pgTable(
  "account_deletions",
  (t) => ({
    id: t.uuid().primaryKey().defaultRandom(),
    userId: t.uuid().notNull().unique("account_deletions_user_id_key"),
    /** Keycloak user id; null once the deletion is done. */
    keycloakSubject: t.text(),
    /** irc.now username = ergo account = soju username; null once the deletion is done. */
    username: t.text(),
    stripeCustomerId: t.text(),
    stripeSubscriptionId: t.text(),
    step: accountDeletionStep().notNull().default("bouncers"),
    requestedAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
    completedAt: t.timestamp({ withTimezone: true }),
    attempts: t.integer().notNull().default(0),
    nextAttemptAt: t.timestamp({ withTimezone: true }).notNull().defaultNow(),
    /** Why the last attempt at the current step failed, for admins (no secrets). */
    lastError: t.text(),
  }),
  (table) => [
    index("account_deletions_pending_idx")
      .on(table.nextAttemptAt)
      .where(sql`${table.completedAt} is null`),
  ],
);
