import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The worker's own metrics (names are part of DESIGN.md's contract where it names them). */
export function createWorkerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    setupAttempts: new Counter({
      name: "irc_now_setup_attempts_total",
      help: "Upstream setup attempts by outcome.",
      labelNames: ["outcome"] as const,
      registers,
    }),
    setupDuration: new Histogram({
      name: "irc_now_setup_duration_seconds",
      help: "Duration of upstream setup attempts.",
      labelNames: ["outcome"] as const,
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers,
    }),
    bouncersBySetupState: new Gauge({
      name: "irc_now_bouncers_by_setup_state",
      help: "SojuBouncers by setup state (provisioning, ready, configured, deleting).",
      labelNames: ["state"] as const,
      registers,
    }),
    bouncersByUpstreamAuth: new Gauge({
      name: "irc_now_bouncers_by_upstream_auth",
      help: "Configured bouncers by verified upstream-authentication state.",
      labelNames: ["state"] as const,
      registers,
    }),
    watchRestarts: new Counter({
      name: "irc_now_watch_restarts_total",
      help: "Restarts of the SojuBouncer watch by reason.",
      labelNames: ["reason"] as const,
      registers,
    }),
    leader: new Gauge({
      name: "irc_now_worker_leader",
      help: "1 when this replica holds the leader lease.",
      registers,
    }),
    // Business metrics (DESIGN.md §2 "Metrics").
    usersTotal: new Gauge({
      name: "irc_now_users_total",
      help: "Users in the accounts DB.",
      registers,
    }),
    usersByPlan: new Gauge({
      name: "irc_now_users_by_plan",
      help: "Users by plan.",
      labelNames: ["plan"] as const,
      registers,
    }),
    activeUsers24h: new Gauge({
      name: "irc_now_active_users_24h",
      help: "Users who signed in during the last 24 hours.",
      registers,
    }),
    loginsTotal: new Gauge({
      name: "irc_now_logins_total",
      help: "Sign-ins recorded since the accounts DB began.",
      registers,
    }),
    networksTotal: new Gauge({
      name: "irc_now_bouncer_networks_total",
      help: "Networks over all soju tenant DBs.",
      registers,
    }),
    channelsTotal: new Gauge({
      name: "irc_now_bouncer_channels_total",
      help: "Channels over all soju tenant DBs.",
      registers,
    }),
    messagesTotal: new Gauge({
      name: "irc_now_bouncer_messages_total",
      help: "Stored messages over all soju tenant DBs.",
      registers,
    }),
    activeBouncerUsers: new Gauge({
      name: "irc_now_bouncer_active_users",
      help: "soju users with a downstream client in the last 24 hours.",
      registers,
    }),
    tenantSweepErrors: new Counter({
      name: "irc_now_tenant_sweep_errors_total",
      help: "Tenant DBs that could not be read during a metrics sweep.",
      registers,
    }),
    // The periodic loops' own health (issue 17): how long they take and how late they run.
    verifierCheckDuration: new Histogram({
      name: "irc_now_verifier_check_duration_seconds",
      help: "Duration of one bouncer's upstream verification.",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    verifierLag: new Histogram({
      name: "irc_now_verifier_lag_seconds",
      help: "How late a bouncer's verification started relative to its slot in the interval.",
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    }),
    verifierTimeouts: new Counter({
      name: "irc_now_verifier_timeouts_total",
      help: "Verifications that did not finish within their deadline.",
      registers,
    }),
    verifierWindowDuration: new Gauge({
      name: "irc_now_verifier_window_duration_seconds",
      help: "Last verification window: from its start to the end of its last check.",
      registers,
    }),
    verifierWindowOverrun: new Gauge({
      name: "irc_now_verifier_window_overrun_seconds",
      help: "Last verification window: how far its last check ended past the interval (0 = within).",
      registers,
    }),
    verifierWindowMaxLag: new Gauge({
      name: "irc_now_verifier_window_max_lag_seconds",
      help: "Last verification window: the latest start of a check relative to its slot.",
      registers,
    }),
    tenantSweepDuration: new Gauge({
      name: "irc_now_tenant_sweep_duration_seconds",
      help: "Duration of the last soju metrics sweep over every tenant DB.",
      registers,
    }),
    tenantSweepLag: new Gauge({
      name: "irc_now_tenant_sweep_lag_seconds",
      help: "How late the last soju metrics sweep started relative to its schedule.",
      registers,
    }),
    tenantSweepTimeouts: new Counter({
      name: "irc_now_tenant_sweep_timeouts_total",
      help: "Tenant DBs whose counts did not arrive within their deadline.",
      registers,
    }),
    // The Keycloak outbox (issue 13), reported by the leader after every drain pass.
    keycloakOutboxPending: new Gauge({
      name: "irc_now_keycloak_outbox_pending",
      help: "Keycloak outbox rows not delivered yet (held ones included).",
      registers,
    }),
    keycloakOutboxOldestAge: new Gauge({
      name: "irc_now_keycloak_outbox_oldest_pending_age_seconds",
      help: "Age of the oldest undelivered Keycloak outbox row (0 when none).",
      registers,
    }),
    keycloakOutboxHeld: new Gauge({
      name: "irc_now_keycloak_outbox_held",
      help: "Keycloak outbox rows given up on (Keycloak has no such user) until an admin retries.",
      registers,
    }),
    keycloakOutboxPushes: new Counter({
      name: "irc_now_keycloak_outbox_pushes_total",
      help: "Pushes of a user's state to Keycloak by result (delivered, skipped, or the error kind).",
      labelNames: ["result"] as const,
      registers,
    }),
    keycloakOutboxPassDuration: new Histogram({
      name: "irc_now_keycloak_outbox_pass_duration_seconds",
      help: "Duration of one Keycloak outbox drain pass.",
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
