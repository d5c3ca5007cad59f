import { describeKubeError } from "@irc-now/k8s";
import { retryDelayMs } from "../keycloak-outbox/backoff";
import type { DeletionDeps, DeletionJob, DeletionStep } from "./ports";

/**
 * Deleting one account, step by step (issue 13). Each step is idempotent — gone already counts as
 * done — and the job's row records the step reached, so a crash or a failure anywhere resumes
 * at that step on the next run and repeats at most the step that was interrupted.
 *
 * Order: the bouncers first (nothing may log in to ergo or set up a bouncer again), then the ergo
 * account (while the credential Secret still exists, to recognise an account the portal made
 * but did not record), the Secret, billing, the Keycloak user, and last the accounts-DB rows
 * (until then the user row still blocks the username for a new sign-up).
 *
 * Never another user's data: bouncers by exact owner label (and uid), ergo accounts only when the
 * portal owns them for this user, the Secret by its one-to-one name, Keycloak by subject id.
 */

const ORDER: readonly DeletionStep[] = [
  "bouncers",
  "ergo_account",
  "ergo_secret",
  "subscription",
  "keycloak_user",
  "accounts_rows",
  "done",
];

/** A step that is under way but not finished (bouncers still terminating): look again soon. */
export class StepPending extends Error {
  override readonly name = "StepPending";
}

type StepFn = (deps: DeletionDeps, job: DeletionJob) => Promise<void>;

function need<T>(value: T | null, what: string): T {
  if (value === null) throw new Error(`the deletion row has no ${what} (cleared too early?)`);
  return value;
}

const steps: Record<Exclude<DeletionStep, "done">, StepFn> = {
  async bouncers(deps, job) {
    const listed = (await deps.bouncers.listByOwner(job.userId)).items;
    // Their setup history and upstream states name them: forget those while the uids are known.
    await deps.store.forgetBouncers(
      listed.flatMap((b) =>
        b.metadata.uid ? [{ name: b.metadata.name, uid: b.metadata.uid }] : [],
      ),
    );
    const { deleted, remaining } = await deps.bouncers.deleteByOwner(job.userId);
    if (deleted.length > 0)
      deps.log.info({ job: job.id, deleted }, "account deletion: bouncers deleted");
    const live = remaining.filter((b) => !b.metadata.deletionTimestamp);
    if (live.length > 0) {
      throw new StepPending(
        `${live.length} bouncer(s) still listed: ${live.map((b) => b.metadata.name).join(", ")}`,
      );
    }
  },

  async ergo_account(deps, job) {
    const username = need(job.username, "username");
    const owned = await deps.store.ergoAccountsOwnedBy(job.userId);
    const targets = new Set(owned);
    // A registration whose ownership row was lost (crash between SAREGISTER and the claim): the
    // account named like the user, owned by nobody in the portal, that takes the user's
    // credential is the portal's own (the setup's rule); any other account is left alone.
    if (!targets.has(username) && (await deps.store.ergoAccountOwner(username)) === null) {
      const password = await deps.credentials.read(username);
      if (password !== null && (await deps.ergo.checkCredentials(username, password))) {
        targets.add(username);
      }
    }
    for (const account of targets) {
      await deps.ergo.unregisterAccount(account);
      deps.log.info({ job: job.id, account }, "account deletion: ergo account erased");
    }
  },

  async ergo_secret(deps, job) {
    await deps.credentials.delete(need(job.username, "username"));
  },

  async subscription(deps, job) {
    await deps.billing.cancelSubscription({
      customerId: job.stripeCustomerId,
      subscriptionId: job.stripeSubscriptionId,
    });
  },

  async keycloak_user(deps, job) {
    // deleteUser treats a user already gone as deleted.
    await deps.keycloak.deleteUser(need(job.keycloakSubject, "Keycloak subject"));
  },

  async accounts_rows(deps, job) {
    await deps.store.deleteAccountRows(job);
  },
};

/** Error text for admins (`last_error`): no secrets reach here (the ports scrub their own). */
function describe(error: unknown): string {
  return describeKubeError(error).slice(0, 1000);
}

export type RunOutcome = "done" | "pending" | "failed";

/** Runs `job` from its recorded step to the end, or until a step fails (recorded for a retry). */
export async function runDeletion(deps: DeletionDeps, job: DeletionJob): Promise<RunOutcome> {
  let step = job.step;
  while (step !== "done") {
    const next = ORDER[ORDER.indexOf(step) + 1] as DeletionStep;
    try {
      await steps[step](deps, job);
      // accounts_rows moves the row to done itself, in its own transaction
      if (step !== "accounts_rows") await deps.store.advance(job.id, step, next);
    } catch (error) {
      const pending = error instanceof StepPending;
      const retryInMs = pending
        ? deps.settings.bouncersPollMs
        : retryDelayMs(job.attempts + 1, deps.settings, deps.random);
      const message = `${step}: ${pending ? (error as Error).message : describe(error)}`;
      await deps.store.fail(job.id, message, retryInMs, !pending);
      if (!pending) {
        deps.metrics?.stepFailed(step);
        deps.log.warn(
          { job: job.id, step, error: message, retryInMs },
          "account deletion step failed; will retry",
        );
      }
      return pending ? "pending" : "failed";
    }
    deps.metrics?.stepDone(step);
    step = next;
  }
  deps.log.info({ job: job.id }, "account deletion finished");
  return "done";
}
