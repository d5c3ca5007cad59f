import { z } from "zod";
import { defineArea } from "./define";
import { bool, dnsLabel, nonNegativeInt, port, positiveInt, secret, text, url } from "./fields";

// One area per external system or concern, named as in DESIGN.md's configuration table.

export const dbEnv = defineArea({
  name: "db",
  shape: { DATABASE_URL: url(["postgres", "postgresql"], "PostgreSQL URL") },
  secrets: ["DATABASE_URL"],
});

export const kubeEnv = defineArea({
  name: "kube",
  shape: {
    /** Absent: in-cluster service account, else ~/.kube/config (client-node's loadFromDefault). */
    KUBECONFIG: z.string().optional(),
    K8S_NAMESPACE: dnsLabel.default("irc-now"),
  },
  secrets: [],
});

export const ergoEnv = defineArea({
  name: "ergo",
  shape: {
    ERGO_IRC_URL: url(["irc", "ircs"], "IRC URL").optional(),
    ERGO_OPER_NAME: text.optional(),
    ERGO_OPER_PASSWORD: secret().optional(),
    ERGO_ADMIN_NICK: z
      .string()
      .regex(/^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]{0,31}$/, "must be a valid IRC nick")
      .default("irc-now-admin"),
    ERGO_API_URL: url(["http", "https"], "HTTP URL").optional(),
    ERGO_API_TOKEN: secret().optional(),
  },
  secrets: ["ERGO_OPER_PASSWORD", "ERGO_API_TOKEN"],
  check: (v, report) => {
    if (v.ERGO_API_URL !== undefined) {
      if (v.ERGO_API_TOKEN === undefined)
        report("ERGO_API_TOKEN", "is required when ERGO_API_URL is set");
      return;
    }
    if (v.ERGO_IRC_URL === undefined)
      report("ERGO_IRC_URL", "is required (or set ERGO_API_URL and ERGO_API_TOKEN)");
    if (v.ERGO_OPER_NAME === undefined)
      report("ERGO_OPER_NAME", "is required for the IRC oper session");
    if (v.ERGO_OPER_PASSWORD === undefined)
      report("ERGO_OPER_PASSWORD", "is required for the IRC oper session");
  },
});

/** soju accepts only these upstream schemes (facts/soju.md §4; `irc://` is rejected by soju). */
const sojuAddr = z
  .string()
  .regex(
    /^(ircs:\/\/|irc\+insecure:\/\/|unix:\/\/)[^\s]+$/,
    "must use ircs://, irc+insecure:// or unix:// (soju rejects irc://)",
  );

export const sojuEnv = defineArea({
  name: "soju",
  shape: {
    SOJU_ADMIN: z
      .enum(["exec", "socket", "sql-restart"], { error: "must be exec, socket or sql-restart" })
      .default("exec"),
    SOJU_ADMIN_SOCKET: z.string().optional(),
    SOJU_POD_SELECTOR: text.default("irc.now/bouncer={name}"),
    SOJU_CONTAINER: text.default("soju"),
    SOJU_CONFIG_PATH: text.default("/etc/soju/config"),
  },
  secrets: [],
  check: (v, report) => {
    if (v.SOJU_ADMIN === "socket" && v.SOJU_ADMIN_SOCKET === undefined) {
      report("SOJU_ADMIN_SOCKET", "is required when SOJU_ADMIN=socket");
    }
  },
});

export const upstreamEnv = defineArea({
  name: "upstream",
  shape: {
    SOJU_UPSTREAM_ADDR: sojuAddr.default("irc+insecure://irc-now-net:6667"),
    SOJU_UPSTREAM_NETWORK: text.default("irc.now"),
  },
  secrets: [],
});

/** An address to listen on: an IPv4 or IPv6 address, or a host name. */
const listenHost = z
  .string()
  .refine((v) => [z.ipv4(), z.ipv6(), z.hostname()].some((s) => s.safeParse(v).success), {
    error: "must be an IP address or a host name to listen on, e.g. 0.0.0.0 or 127.0.0.1",
  });

export const workerEnv = defineArea({
  name: "worker",
  shape: {
    WORKER_PORT: port(9464),
    /**
     * Where /healthz, /readyz and /metrics listen. Not in DESIGN.md's table: added so that
     * `npm run dev` keeps the worker on loopback (127.0.0.1); on Kubernetes the default, every
     * interface, lets the kubelet and Prometheus reach the pod IP.
     */
    WORKER_HOST: listenHost.default("0.0.0.0"),
    VERIFY_INTERVAL_S: positiveInt(300),
    LEADER_ELECTION: bool(true),
    LEASE_NAME: dnsLabel.default("irc-now-worker"),
  },
  secrets: [],
});

/**
 * The issuer's tokens decide who is admin and its JWKS is fetched over this URL, so plain http
 * is refused unless the Keycloak runs on this machine (the dev stack's and the tests' stand-in
 * on 127.0.0.1): a rule on the URL itself, not on NODE_ENV, which tests and builds set freely.
 */
function httpsOrLoopback(value: string): boolean {
  try {
    const { protocol, hostname } = new URL(value);
    if (protocol !== "http:") return true; // https, or a scheme url() above reports
    return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
  } catch {
    return true; // the url() check above reports it
  }
}

const keycloakIssuer = url(
  ["http", "https"],
  "HTTP URL including the realm, e.g. https://kc.example/realms/irc-now",
).refine(httpsOrLoopback, {
  error:
    "must use https:// (http:// only for a Keycloak on this machine: localhost, 127.0.0.0/8, ::1)",
});

export const authEnv = defineArea({
  name: "auth",
  shape: {
    AUTH_SECRET: secret(32),
    AUTH_URL: url(["http", "https"], "HTTP URL"),
    KEYCLOAK_ISSUER: keycloakIssuer,
    KEYCLOAK_CLIENT_ID: text,
    KEYCLOAK_CLIENT_SECRET: secret(),
    ADMIN_ROLE: text.default("irc-now-admin"),
    /** How often a session's roles are re-read from Keycloak (refresh-token grant). */
    AUTH_ROLE_REFRESH_S: positiveInt(300),
  },
  secrets: ["AUTH_SECRET", "KEYCLOAK_CLIENT_SECRET"],
});

export const keycloakAdminEnv = defineArea({
  name: "keycloak-admin",
  shape: {
    /** The admin API lives beside the issuer: `{origin}/admin/realms/{realm}` (no `/auth` on 17+). */
    KEYCLOAK_ISSUER: keycloakIssuer,
    KEYCLOAK_ADMIN_CLIENT_ID: text,
    KEYCLOAK_ADMIN_CLIENT_SECRET: secret(),
  },
  secrets: ["KEYCLOAK_ADMIN_CLIENT_SECRET"],
});

export const stripeEnv = defineArea({
  name: "stripe",
  shape: {
    STRIPE_SECRET_KEY: z
      .string()
      .regex(/^(sk|rk)_(test|live)_\S+$/, "must be a Stripe secret key (sk_test_… or sk_live_…)"),
    STRIPE_WEBHOOK_SECRET: z
      .string()
      .regex(/^whsec_\S+$/, "must be a Stripe webhook secret (whsec_…)"),
    STRIPE_PRICE_PRO: z.string().regex(/^price_\S+$/, "must be a Stripe price id (price_…)"),
    STRIPE_API_URL: url(["http", "https"], "HTTP URL").optional(),
  },
  secrets: ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"],
});

/**
 * The worker's part of Stripe (issue 14): an account deletion cancels the user's subscription.
 * Optional: without a key the worker still runs, and a deletion of a user who has a subscription
 * stops at its subscription step with a `last_error` saying so.
 */
export const stripeWorkerEnv = defineArea({
  name: "stripe-worker",
  shape: {
    STRIPE_SECRET_KEY: z
      .string()
      .regex(/^(sk|rk)_(test|live)_\S+$/, "must be a Stripe secret key (sk_test_… or sk_live_…)")
      .optional(),
    STRIPE_API_URL: url(["http", "https"], "HTTP URL").optional(),
  },
  secrets: ["STRIPE_SECRET_KEY"],
});

export const irccloudEnv = defineArea({
  name: "irccloud",
  shape: { IRCCLOUD_URL: url(["http", "https"], "HTTP URL").default("https://www.irccloud.com") },
  secrets: [],
});

/**
 * The IRCCloud import (issue 15; not in DESIGN.md's table). `IMPORT_SECRET_KEY` (web and worker,
 * the same value) keys the AES-GCM sealing of the network passwords, NickServ passwords and
 * channel keys an import job holds until they are applied; without it the import is off.
 * `IRCCLOUD_TIMEOUT_S` bounds the whole IRCCloud fetch. `SOJU_MAX_USER_NETWORKS` is soju's
 * `max-user-networks` as the operator configures it (-1: no limit), for the preview's warning.
 */
export const importEnv = defineArea({
  name: "import",
  shape: {
    IMPORT_SECRET_KEY: secret(32).optional(),
    IRCCLOUD_TIMEOUT_S: positiveInt(30),
    SOJU_MAX_USER_NETWORKS: z.coerce
      .number({ error: "must be a number" })
      .int("must be a whole number")
      .min(-1, "must be -1 (no limit) or more")
      .default(-1),
  },
  secrets: ["IMPORT_SECRET_KEY"],
});

export const plansEnv = defineArea({
  name: "plans",
  shape: {
    PLAN_QUOTA_FREE: nonNegativeInt(1),
    PLAN_QUOTA_PRO: nonNegativeInt(3),
    /** Days a `past_due` subscription keeps pro after its first failed payment. */
    PRO_GRACE_DAYS: nonNegativeInt(7),
    // Bouncer creates + deletes per user per window (not in DESIGN.md's table: issue 11). Each
    // cycle provisions a tenant DB and a pod and resets the user's ergo password.
    BOUNCER_CHANGE_LIMIT: positiveInt(10),
    BOUNCER_CHANGE_WINDOW_S: positiveInt(600),
  },
  secrets: [],
});

/**
 * How users' IRC clients reach their bouncer (shown on the dashboard). Not in DESIGN.md's
 * table: added with the dashboard; `{name}` is replaced by the bouncer name.
 */
export const publicEnv = defineArea({
  name: "public",
  shape: {
    BOUNCER_PUBLIC_HOST: text.default("{name}.bouncer.irc.now"),
    BOUNCER_PUBLIC_PORT: port(6697),
    BOUNCER_PUBLIC_TLS: bool(true),
  },
  secrets: [],
});

/**
 * The key of the app passwords' keyed hash (HMAC-SHA256; apps/web/src/server/domain/app-passwords.ts).
 * Not in DESIGN.md's table: added with issue 12. Optional: when absent the web derives the key
 * from AUTH_SECRET with HKDF (its own label, so the two keys are independent). Set it to rotate
 * the two apart: changing whichever one is in use invalidates every app password.
 */
export const appPasswordsEnv = defineArea({
  name: "app-passwords",
  shape: { APP_PASSWORD_PEPPER: secret(32).optional() },
  secrets: ["APP_PASSWORD_PEPPER"],
});

export const logEnv = defineArea({
  name: "log",
  shape: {
    LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
        error: "must be one of fatal, error, warn, info, debug, trace, silent",
      })
      .default("info"),
  },
  secrets: [],
});
