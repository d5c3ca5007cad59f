import { sql } from "drizzle-orm";
import type { AccountsDb } from "@irc-now/db";
import {
  conditionOf,
  isConfigured,
  isDeleting,
  isReady,
  LABEL_OWNER,
  type SojuBouncer,
} from "@irc-now/k8s";
import type { DomainContext } from "./context";

/**
 * `needs_admin`: not annotated as configured, and its latest setup attempt ended `needs_admin`
 * (a permanent failure: the worker has parked the bouncer until an admin acts).
 */
export type BouncerPhase =
  "provisioning" | "ready" | "needs_admin" | "configured" | "authenticated" | "deleting";

export type SetupOutcome = "running" | "succeeded" | "failed" | "needs_admin";

export interface AttemptSummary {
  attemptNo: number;
  outcome: SetupOutcome;
  step: string;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface UpstreamSummary {
  state: "authenticated" | "unauthenticated" | "disconnected" | "unknown";
  account: string | null;
  detail: string | null;
  checkedAt: Date;
}

export interface BouncerView {
  name: string;
  /** The CR's `metadata.uid`: what its setup history is keyed by. */
  uid: string | null;
  username: string;
  plan: "free" | "pro";
  ownerId: string | null;
  createdAt: string | null;
  phase: BouncerPhase;
  ready: boolean;
  configured: boolean;
  upstream: UpstreamSummary | null;
  lastAttempt: AttemptSummary | null;
  /** What went wrong, in plain words; null when all is well or still in progress. */
  problem: string | null;
  /** What is happening right now (e.g. the operator's progress message), when useful. */
  detail: string | null;
  connection: { host: string; port: number; tls: boolean; username: string };
}

export function phaseOf(
  bouncer: SojuBouncer,
  upstream: UpstreamSummary | null,
  attempt: AttemptSummary | null = null,
): BouncerPhase {
  if (isDeleting(bouncer)) return "deleting";
  if (!isConfigured(bouncer) && attempt?.outcome === "needs_admin") return "needs_admin";
  if (!isReady(bouncer)) return "provisioning";
  if (!isConfigured(bouncer)) return "ready";
  return upstream?.state === "authenticated" ? "authenticated" : "configured";
}

const stepWords: Record<string, string> = {
  read_secret: "reading its database settings",
  wait_for_soju_user: "waiting for your bouncer to start",
  choose_password: "preparing your credentials",
  ensure_ergo_account: "creating your irc.now account",
  verify_ergo_credentials: "checking your irc.now account",
  apply_soju_network: "adding the irc.now network to your bouncer",
  annotate: "saving the setup",
  verify_upstream_login: "checking that your bouncer is logged in",
};

/** Ready=False reasons that mean "it broke", as opposed to "still on its way". */
const failureReason = /fail|error|crash|invalid|denied|forbidden|quota|backoff|unschedulable/i;

/** The operator says it could not start the bouncer (as opposed to "still on its way"). */
export function startFailed(bouncer: SojuBouncer): boolean {
  const ready = conditionOf(bouncer, "Ready");
  return ready?.status === "False" && failureReason.test(ready.reason ?? "");
}

/**
 * The admin view's problem line, with the operator's own message. Users get theirs from
 * user-view.ts, which never shows raw texts.
 */
export function problemOf(
  bouncer: SojuBouncer,
  phase: BouncerPhase,
  upstream: UpstreamSummary | null,
  attempt: AttemptSummary | null,
): string | null {
  const ready = conditionOf(bouncer, "Ready");
  if (phase === "provisioning" && ready?.message && startFailed(bouncer)) {
    return `Your bouncer could not start: ${ready.message}`;
  }
  if (phase === "needs_admin") {
    return (
      "Waiting for irc.now staff: your IRC account name needs a check by an administrator " +
      "before we can finish setting up your bouncer. You don't need to do anything; this page " +
      "updates by itself once it is sorted."
    );
  }
  if (phase === "ready" && attempt?.outcome === "failed") {
    return `Setting up the irc.now network failed while ${stepWords[attempt.step] ?? attempt.step}. We retry automatically.`;
  }
  if (phase === "configured" && upstream) {
    if (upstream.state === "unauthenticated")
      return "Your bouncer is connected to irc.now but is not logged in to your account.";
    if (upstream.state === "disconnected")
      return "Your bouncer is not connected to irc.now right now.";
  }
  return null;
}

export interface SetupRecordRow extends Record<string, unknown> {
  uid: string | null;
  attempt_no: number | null;
  outcome: AttemptSummary["outcome"] | null;
  step_reached: string | null;
  error: string | null;
  started_at: string | Date | null;
  finished_at: string | Date | null;
  state: UpstreamSummary["state"] | null;
  account: string | null;
  detail: string | null;
  checked_at: string | Date | null;
}

/** A bouncer as its setup records know it: the CR's name (display) and `metadata.uid` (key). */
export interface BouncerKey {
  name: string;
  uid: string;
}

/**
 * Latest attempt and upstream state of each bouncer, in one query, keyed by the CR's uid: per
 * bouncer, the attempt with the highest number among the rows of *this* CR (one index lookup
 * however long its history), and its upstream state row only when it was observed on this CR.
 * Rows of an earlier bouncer of the same name (another uid) are never returned. The keys travel
 * as two array parameters (no limit on how many).
 */
export async function loadSetupRecords(
  db: AccountsDb,
  namespace: string,
  keys: BouncerKey[],
): Promise<SetupRecords> {
  const usable = keys.filter((k) => k.uid !== "");
  if (usable.length === 0) return { attempts: new Map(), upstreams: new Map() };
  const { rows } = await db.execute<SetupRecordRow>(sql`
    SELECT n.uid,
           a.attempt_no, a.outcome, a.step_reached, a.error, a.started_at, a.finished_at,
           u.state, u.account, u.detail, u.checked_at
    FROM unnest(${sql.param(usable.map((k) => k.name))}::text[],
                ${sql.param(usable.map((k) => k.uid))}::text[]) AS n(bouncer, uid)
    LEFT JOIN LATERAL (
      SELECT attempt_no, outcome, step_reached, error, started_at, finished_at
      FROM bouncer_setup_attempts
      WHERE bouncer_uid = n.uid AND namespace = ${namespace}
      ORDER BY attempt_no DESC
      LIMIT 1
    ) a ON true
    LEFT JOIN bouncer_upstream_states u
      ON u.namespace = ${namespace} AND u.bouncer = n.bouncer AND u.bouncer_uid = n.uid`);
  return setupRecordsFromRows(rows);
}

/** Latest attempt and upstream state per bouncer uid. */
export interface SetupRecords {
  attempts: Map<string, AttemptSummary>;
  upstreams: Map<string, UpstreamSummary>;
}

/** Rows of {@link loadSetupRecords}' shape (also read joined to the projection) as records. */
export function setupRecordsFromRows(rows: SetupRecordRow[]): SetupRecords {
  const attempts = new Map<string, AttemptSummary>();
  const upstreams = new Map<string, UpstreamSummary>();
  for (const r of rows) {
    if (!r.uid) continue; // a CR without a uid has no records (as loadSetupRecords skips it)
    if (
      r.attempt_no !== null &&
      r.outcome !== null &&
      r.step_reached !== null &&
      r.started_at !== null
    ) {
      attempts.set(r.uid, {
        attemptNo: r.attempt_no,
        outcome: r.outcome,
        step: r.step_reached,
        error: r.error,
        // Raw queries get timestamps as text (drizzle's pg driver setting).
        startedAt: new Date(r.started_at),
        finishedAt: r.finished_at === null ? null : new Date(r.finished_at),
      });
    }
    if (r.state !== null && r.checked_at !== null) {
      upstreams.set(r.uid, {
        state: r.state,
        account: r.account,
        detail: r.detail,
        checkedAt: new Date(r.checked_at),
      });
    }
  }
  return { attempts, upstreams };
}

export const keyOf = (b: SojuBouncer): BouncerKey => ({
  name: b.metadata.name,
  uid: b.metadata.uid ?? "",
});

/** Views of these bouncers; `records` when already read with them (the projection's query). */
export async function toViews(
  ctx: DomainContext,
  bouncers: SojuBouncer[],
  records?: SetupRecords,
): Promise<BouncerView[]> {
  const { attempts, upstreams } =
    records ?? (await loadSetupRecords(ctx.db, ctx.namespace, bouncers.map(keyOf)));
  return bouncers.map((b) => {
    const uid = b.metadata.uid ?? "";
    const upstream = upstreams.get(uid) ?? null;
    const lastAttempt = attempts.get(uid) ?? null;
    const phase = phaseOf(b, upstream, lastAttempt);
    return {
      name: b.metadata.name,
      uid: b.metadata.uid ?? null,
      username: b.spec.username,
      plan: b.spec.plan,
      ownerId: b.metadata.labels?.[LABEL_OWNER] ?? null,
      // client-node's object API turns timestamps into Date objects despite the string type.
      createdAt: b.metadata.creationTimestamp
        ? new Date(b.metadata.creationTimestamp).toISOString()
        : null,
      phase,
      ready: isReady(b),
      configured: isConfigured(b),
      upstream,
      lastAttempt,
      problem: problemOf(b, phase, upstream, lastAttempt),
      detail: phase === "provisioning" ? conditionOf(b, "Ready")?.message || null : null,
      connection: {
        host: ctx.publicEndpoint.host.split("{name}").join(b.metadata.name),
        port: ctx.publicEndpoint.port,
        tls: ctx.publicEndpoint.tls,
        username: b.spec.username,
      },
    };
  });
}
