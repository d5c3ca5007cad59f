import { and, desc, eq, inArray } from "drizzle-orm";
import { accounts, type AccountsDb } from "@irc-now/db";
import { conditionOf, isConfigured, isDeleting, isReady, LABEL_OWNER, type SojuBouncer } from "@irc-now/k8s";
import type { DomainContext } from "./context";

export type BouncerPhase = "provisioning" | "ready" | "configured" | "authenticated" | "deleting";

export interface AttemptSummary {
  attemptNo: number;
  outcome: "running" | "succeeded" | "failed";
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
  connection: { host: string; port: number; tls: boolean; username: string };
}

export function phaseOf(bouncer: SojuBouncer, upstream: UpstreamSummary | null): BouncerPhase {
  if (isDeleting(bouncer)) return "deleting";
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

export function problemOf(bouncer: SojuBouncer, phase: BouncerPhase, upstream: UpstreamSummary | null, attempt: AttemptSummary | null): string | null {
  const ready = conditionOf(bouncer, "Ready");
  if (phase === "provisioning" && ready?.status === "False" && ready.message) {
    return `Your bouncer is not running yet: ${ready.message}`;
  }
  if (phase === "ready" && attempt?.outcome === "failed") {
    return `Setting up the irc.now network failed while ${stepWords[attempt.step] ?? attempt.step}. We retry automatically.`;
  }
  if (phase === "configured" && upstream) {
    if (upstream.state === "unauthenticated") return "Your bouncer is connected to irc.now but is not logged in to your account.";
    if (upstream.state === "disconnected") return "Your bouncer is not connected to irc.now right now.";
  }
  return null;
}

/** Latest attempt and upstream state of each named bouncer, in two queries. */
export async function loadSetupRecords(db: AccountsDb, namespace: string, names: string[]) {
  const attempts = new Map<string, AttemptSummary>();
  const upstreams = new Map<string, UpstreamSummary>();
  if (names.length === 0) return { attempts, upstreams };
  const [attemptRows, stateRows] = await Promise.all([
    db
      .selectDistinctOn([accounts.bouncerSetupAttempts.bouncer])
      .from(accounts.bouncerSetupAttempts)
      .where(and(eq(accounts.bouncerSetupAttempts.namespace, namespace), inArray(accounts.bouncerSetupAttempts.bouncer, names)))
      .orderBy(accounts.bouncerSetupAttempts.bouncer, desc(accounts.bouncerSetupAttempts.attemptNo)),
    db
      .select()
      .from(accounts.bouncerUpstreamStates)
      .where(and(eq(accounts.bouncerUpstreamStates.namespace, namespace), inArray(accounts.bouncerUpstreamStates.bouncer, names))),
  ]);
  for (const a of attemptRows) {
    attempts.set(a.bouncer, { attemptNo: a.attemptNo, outcome: a.outcome, step: a.stepReached, error: a.error, startedAt: a.startedAt, finishedAt: a.finishedAt });
  }
  for (const s of stateRows) upstreams.set(s.bouncer, { state: s.state, account: s.account, detail: s.detail, checkedAt: s.checkedAt });
  return { attempts, upstreams };
}

export async function toViews(ctx: DomainContext, bouncers: SojuBouncer[]): Promise<BouncerView[]> {
  const { attempts, upstreams } = await loadSetupRecords(ctx.db, ctx.namespace, bouncers.map((b) => b.metadata.name));
  return bouncers.map((b) => {
    const upstream = upstreams.get(b.metadata.name) ?? null;
    const lastAttempt = attempts.get(b.metadata.name) ?? null;
    const phase = phaseOf(b, upstream);
    return {
      name: b.metadata.name,
      username: b.spec.username,
      plan: b.spec.plan,
      ownerId: b.metadata.labels?.[LABEL_OWNER] ?? null,
      // client-node's object API turns timestamps into Date objects despite the string type.
      createdAt: b.metadata.creationTimestamp ? new Date(b.metadata.creationTimestamp).toISOString() : null,
      phase,
      ready: isReady(b),
      configured: isConfigured(b),
      upstream,
      lastAttempt,
      problem: problemOf(b, phase, upstream, lastAttempt),
      connection: {
        host: ctx.publicEndpoint.host.split("{name}").join(b.metadata.name),
        port: ctx.publicEndpoint.port,
        tls: ctx.publicEndpoint.tls,
        username: b.spec.username,
      },
    };
  });
}
