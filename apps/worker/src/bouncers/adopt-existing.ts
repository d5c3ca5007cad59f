import { accounts, type AccountsDb } from "@irc-now/db";
import { LABEL_OWNER, type SojuBouncer } from "@irc-now/k8s";
import type { SetupDeps } from "./setup";
import { errorText } from "./secrets";

export interface AdoptionPlanRow {
  account: string;
  ownerUserId: string | null;
  bouncers: string[];
  action: "owned" | "adopt" | "skip";
  /** Why, in words an operator can act on; never a secret. */
  reason: string;
}

type Deps = Pick<
  SetupDeps,
  "bouncers" | "openTenantDb" | "ergo" | "ownership" | "credentials" | "settings"
>;

/**
 * Migration of a live system to owned ergo accounts (DESIGN.md §2 step 3): an account is adopted
 * only with proof that the portal set its password — a credential the portal holds (the user's
 * credential Secret, or the SASL password one of the user's bouncers stores for irc.now) that
 * ergo accepts right now. Anything else is left for an admin. Reads only; `applyAdoptions`
 * writes.
 */
export async function planAdoptions(deps: Deps): Promise<AdoptionPlanRow[]> {
  const { items } = await deps.bouncers.list();
  const byAccount = new Map<string, SojuBouncer[]>();
  for (const b of items) {
    const key = b.spec.username.toLowerCase();
    byAccount.set(key, [...(byAccount.get(key) ?? []), b]);
  }
  const rows: AdoptionPlanRow[] = [];
  for (const [account, bouncers] of [...byAccount].sort(([a], [b]) => a.localeCompare(b))) {
    const names = bouncers.map((b) => b.metadata.name).sort();
    const owners = new Set(bouncers.map((b) => b.metadata.labels?.[LABEL_OWNER] ?? ""));
    const ownerUserId = owners.size === 1 ? [...owners][0]! || null : null;
    const row = (action: AdoptionPlanRow["action"], reason: string) =>
      rows.push({ account, ownerUserId, bouncers: names, action, reason });
    const owner = await deps.ownership.ownerOf(account);
    if (owner !== null) {
      row("owned", owner === ownerUserId ? "already owned" : `owned by another user (${owner})`);
      continue;
    }
    if (ownerUserId === null) {
      row("skip", "its bouncers have no single irc.now/owner label");
      continue;
    }
    const proof = await provenCredential(deps, account, bouncers).catch(
      (e: unknown) => `error: ${errorText(e)}`,
    );
    if (proof?.startsWith("error: ")) row("skip", `could not check: ${proof.slice(7)}`);
    else if (proof) row("adopt", `ergo accepts ${proof}`);
    else
      row(
        "skip",
        "no credential the portal holds is accepted by ergo (the account may not exist yet, or someone else set its password): left for an admin",
      );
  }
  return rows;
}

/** Which credential of the portal's ergo accepts for `account` (a description), or null. */
async function provenCredential(
  deps: Deps,
  account: string,
  bouncers: SojuBouncer[],
): Promise<string | null> {
  const username = bouncers[0]!.spec.username;
  const secret = await deps.credentials.read(username);
  if (secret && (await deps.ergo.checkCredentials(username, secret)))
    return "the user's credential Secret";
  for (const b of bouncers) {
    const tenant = await deps.openTenantDb(b.metadata.name).catch(() => null);
    if (!tenant) continue;
    try {
      const stored = await tenant.saslPlainCredentials(username, deps.settings.upstreamNetwork);
      if (
        stored?.username.toLowerCase() === account &&
        (await deps.ergo.checkCredentials(username, stored.password))
      )
        return `the SASL password bouncer ${b.metadata.name} stores`;
    } finally {
      await tenant.close().catch(() => undefined);
    }
  }
  return null;
}

/**
 * Records the `adopt` rows of a plan: each adoption and its audit entry in one transaction; an
 * account owned meanwhile is left as it is. Returns the accounts adopted.
 */
export async function applyAdoptions(
  db: AccountsDb,
  namespace: string,
  rows: readonly AdoptionPlanRow[],
): Promise<string[]> {
  const adopted: string[] = [];
  for (const r of rows) {
    if (r.action !== "adopt" || !r.ownerUserId) continue;
    const done = await db.transaction(async (tx) => {
      const inserted = await tx
        .insert(accounts.ergoAccounts)
        .values({
          account: r.account,
          ownerUserId: r.ownerUserId!,
          origin: "adopted",
          adoptedBy: ADOPT_EXISTING_ACTOR,
        })
        .onConflictDoNothing()
        .returning({ account: accounts.ergoAccounts.account });
      if (inserted.length === 0) return false;
      await tx.insert(accounts.adminAuditLog).values({
        actorUsername: ADOPT_EXISTING_ACTOR,
        action: "ergo_account.adopt",
        target: `sojubouncer/${namespace}/${r.bouncers[0]}`,
        reason: r.reason,
        details: { account: r.account, ownerUserId: r.ownerUserId, bouncers: r.bouncers },
      });
      return true;
    });
    if (done) adopted.push(r.account);
  }
  return adopted;
}

export const ADOPT_EXISTING_ACTOR = "adopt-existing";
