import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { unusableAccountName } from "@irc-now/ergo";
import {
  ANNOTATION_RETRY_REQUESTED_AT,
  isConfigured,
  isConflict,
  isDeleting,
  LABEL_OWNER,
  type SojuBouncer,
} from "@irc-now/k8s";
import type {
  BouncerStore,
  CredentialStore,
  ErgoPort,
  OpenTenantDb,
  OwnershipStore,
  SetupLock,
  SetupLocks,
  SojuAdmin,
  TenantDb,
} from "../ports/index";
import type { BouncerRef, SetupRecorder, SetupStep } from "./attempts";
import { isPermanent, NeedsAdmin, SetupCancelled, SetupError } from "./errors";
import { errorText, scrub } from "./secrets";
import { StepLog } from "./step-log";
import { checkUpstream, type Verdict } from "./verifier";

export { SetupError, NeedsAdmin, SetupCancelled } from "./errors";

export interface SetupSettings {
  upstreamAddr: string;
  upstreamNetwork: string;
  /** `ERGO_ADMIN_NICK`: never a user's account (ergo would rename the oper session). */
  adminNick?: string;
  /** Checks for soju's user row before giving up (soju may still be starting). */
  userWaitAttempts: number;
  userWaitBaseMs: number;
  /** How long step 6 waits for this bouncer's soju to report the irc.now login. */
  verifyTimeoutMs: number;
  /** Step 6 looks again after verifyFirstPollMs, doubling up to verifyPollMs between looks. */
  verifyFirstPollMs: number;
  verifyPollMs: number;
}

export const defaultSetupSettings: Omit<SetupSettings, "upstreamAddr" | "upstreamNetwork"> = {
  userWaitAttempts: 10,
  userWaitBaseMs: 500,
  verifyTimeoutMs: 30_000,
  verifyFirstPollMs: 50,
  verifyPollMs: 500,
};

export interface SetupDeps {
  bouncers: BouncerStore;
  openTenantDb: OpenTenantDb;
  ergo: ErgoPort;
  soju: SojuAdmin;
  credentials: CredentialStore;
  ownership: OwnershipStore;
  locks: SetupLocks;
  recorder: SetupRecorder;
  settings: SetupSettings;
  log: Logger;
  /** Reports each step as it starts (the CLI prints them; the bench times them). */
  onStep?: (step: SetupStep | "done", bouncer: BouncerRef) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  generatePassword?: () => string;
}

/** Where the password of a setup came from (DESIGN.md §2 step 2). */
export type PasswordSource = "secret" | "adopted" | "generated";

export type SetupResult =
  | {
      outcome: "succeeded";
      authenticated: true;
      attemptNo: number;
      durationMs: number;
      passwordSource: PasswordSource;
      ergo: "created" | "reset" | "existing";
    }
  | {
      /** `failed` is retried with backoff; `needs_admin` is parked until an admin acts. */
      outcome: "failed" | "needs_admin";
      step: SetupStep;
      error: string;
      attemptNo: number;
      durationMs: number;
      configured: boolean;
    }
  /** Another setup of this bouncer holds its lock (another replica, or one still draining). */
  | { outcome: "busy" };

/** A portal user id (accounts DB `users.id`), as the web labels the CRs it creates. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** 32 random bytes, URL-safe: no spaces or quotes, so no quoting surprises anywhere. */
export const generatePassword = () => randomBytes(24).toString("base64url");

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Step 1's wait for soju's user row. `firstLook` is the first check, issued ahead of the step.
 * Resolves true when the user was there at the first look (nothing was waited for).
 */
async function waitForSojuUser(
  tenant: TenantDb,
  username: string,
  deps: SetupDeps,
  signal: AbortSignal,
  firstLook: Promise<boolean>,
): Promise<boolean> {
  const sleep = deps.sleep ?? abortableSleep;
  for (let i = 0; i < deps.settings.userWaitAttempts; i++) {
    if (await (i === 0 ? firstLook : tenant.hasUser(username))) return i === 0;
    if (i < deps.settings.userWaitAttempts - 1)
      await sleep(Math.min(deps.settings.userWaitBaseMs * 2 ** i, 10_000), signal);
  }
  throw new SetupError(
    "wait_for_soju_user",
    `soju has no user "${username}" after ${deps.settings.userWaitAttempts} checks`,
  );
}

/**
 * Step 6: this bouncer's soju reports the irc.now login (confirmed by ergo), within a bounded
 * time. soju usually logs in within tens of ms of the network being enabled, so the first
 * looks come soon and then back off to verifyPollMs: a setup does not hold its queue slot for
 * a whole poll interval. Returns the last verdict seen.
 */
export async function waitForUpstreamLogin(
  deps: Pick<SetupDeps, "ergo" | "soju" | "settings" | "sleep">,
  bouncer: SojuBouncer,
  signal?: AbortSignal,
): Promise<Verdict> {
  const sleep = deps.sleep ?? abortableSleep;
  const { verifyTimeoutMs, verifyPollMs, upstreamNetwork: network } = deps.settings;
  const deadline = Date.now() + verifyTimeoutMs;
  let delay = Math.min(deps.settings.verifyFirstPollMs, verifyPollMs);
  for (;;) {
    const verdict = await checkUpstream({ ...deps, network }, bouncer);
    if (verdict.state === "authenticated" || Date.now() >= deadline) return verdict;
    await sleep(delay, signal);
    delay = Math.min(delay * 2, verifyPollMs);
  }
}

/**
 * The password of a user whose credential Secret does not exist yet: one that a bouncer of
 * theirs already stores for irc.now AND ergo accepts (bouncers set up before the Secret
 * existed), else null. Only a password ergo accepts can be the live one, so when a user's
 * bouncers disagree, the one ergo accepts wins; the others get it at their next setup.
 * `mine` is what this bouncer's soju stores (read on the connection the setup has open);
 * `owners` the owner's bouncers (both read ahead of the step).
 */
async function adoptablePassword(
  deps: SetupDeps,
  bouncer: SojuBouncer,
  mine: { username: string; password: string } | null,
  owners: { items: SojuBouncer[] },
  signal: AbortSignal,
): Promise<string | null> {
  const username = bouncer.spec.username;
  const network = deps.settings.upstreamNetwork;
  const accepted = async (stored: { username: string; password: string } | null) =>
    stored?.password &&
    stored.username.toLowerCase() === username.toLowerCase() &&
    (await deps.ergo.checkCredentials(username, stored.password))
      ? stored.password
      : null;
  // This bouncer first.
  const own = await accepted(mine);
  if (own) return own;
  for (const b of owners.items) {
    if (b.spec.username !== username || b.metadata.name === bouncer.metadata.name) continue;
    signal.throwIfAborted();
    let tenant: TenantDb | undefined;
    try {
      tenant = await deps.openTenantDb(b.metadata.name);
      const password = await accepted(await tenant.saslPlainCredentials(username, network));
      if (password) return password;
    } catch (error) {
      // One unreadable bouncer must not block the others: it is only a migration candidate.
      deps.log.debug(
        { bouncer: b.metadata.name, error: errorText(error) },
        "no adoptable credential",
      );
    } finally {
      await tenant?.close().catch(() => undefined);
    }
  }
  return null;
}

/** An ergo account the portal owns for another user is never touched, nor is soju for it. */
function refuseForeignAccount(username: string, ownerId: string, owner: string | null): void {
  if (owner !== null && owner !== ownerId)
    throw new NeedsAdmin(
      "ensure_ergo_account",
      `ergo account "${username}" is owned by another portal user (${owner}); it is not reset`,
    );
}

/**
 * Step 3: make the ergo account accept `password`, resetting it only when the portal owns it for
 * this same user (`owner`: the account's owner as the accounts DB said at this step or just
 * before it). An existing account the portal does not own is never reset: unless ergo already
 * accepts the user's credential (then the portal made it, e.g. a registration whose ownership
 * row was lost), the setup stops for an admin.
 */
async function ensureErgoAccount(
  deps: SetupDeps,
  username: string,
  ownerId: string,
  password: string,
  owner: string | null,
): Promise<"created" | "reset" | "existing"> {
  const step = "ensure_ergo_account";
  refuseForeignAccount(username, ownerId, owner);
  const claim = async () => {
    const now = await deps.ownership.claim(username, ownerId, "registered");
    if (now !== ownerId)
      throw new NeedsAdmin(step, `ergo account "${username}" was claimed by another user (${now})`);
  };
  if ((await deps.ergo.register(username, password)) === "created") {
    await claim();
    return "created";
  }
  if (owner === ownerId) {
    await deps.ergo.resetPassword(username, password);
    return "reset";
  }
  if (await deps.ergo.checkCredentials(username, password)) {
    await claim();
    return "existing";
  }
  throw new NeedsAdmin(
    step,
    `ergo account "${username}" already exists and the portal does not own it; it was not reset. ` +
      "An admin can adopt it (the account's password then becomes the user's irc.now credential).",
  );
}

/**
 * Step 5: the annotation, only while holding the lock and only on the object the setup read.
 * A conflict caused by someone else's unrelated write (the operator's status) is retried on the
 * fresh object; an admin retry, a deletion or a recreation in the meantime fails the attempt so
 * that the setup runs again from the start.
 */
async function annotate(deps: SetupDeps, bouncer: SojuBouncer, lock: SetupLock): Promise<void> {
  const name = bouncer.metadata.name;
  const retryMark = (b: SojuBouncer) => b.metadata.annotations?.[ANNOTATION_RETRY_REQUESTED_AT];
  let current = bouncer;
  for (let i = 0; i < 3; i++) {
    await lock.assertHeld();
    try {
      await deps.bouncers.markConfigured(name, {
        uid: current.metadata.uid!,
        resourceVersion: current.metadata.resourceVersion!,
      });
      return;
    } catch (error) {
      if (!isConflict(error)) throw error;
      const fresh = await deps.bouncers.get(name);
      if (
        !fresh ||
        fresh.metadata.uid !== bouncer.metadata.uid ||
        isDeleting(fresh) ||
        isConfigured(fresh) ||
        retryMark(fresh) !== retryMark(bouncer)
      )
        throw new SetupError(
          "annotate",
          "the bouncer changed during setup (a retry was requested, or it was deleted or recreated); setup runs again",
        );
      current = fresh;
    }
  }
  throw new SetupError("annotate", "the bouncer kept changing during setup; setup runs again");
}

/**
 * A setup whose annotation is written: all that is left is step 6, verifying the upstream
 * login, which only reads (soju's `sasl status`, ergo's WHOIS). `verify` runs it, records the
 * attempt's end and then releases the setup lock; it must be called exactly once. The
 * controller hands it to a stage of its own so that the setup's queue slot is free for the next
 * bouncer meanwhile (controller.ts).
 */
export interface Annotated {
  outcome: "annotated";
  verify(): Promise<SetupResult>;
}

/**
 * Upstream setup for one Ready, unannotated bouncer (DESIGN.md §2 steps 1–7), under the
 * bouncer's setup lock, including step 6. `signal` cancels it between steps (the worker is
 * stopping); losing the lock cancels it too. Every attempt is recorded; no secret reaches a log
 * line or an error text.
 */
export async function runSetup(
  deps: SetupDeps,
  bouncer: SojuBouncer,
  signal?: AbortSignal,
): Promise<SetupResult> {
  const first = await startSetup(deps, bouncer, signal);
  return first.outcome === "annotated" ? first.verify() : first;
}

/**
 * `runSetup` up to the annotation: resolves with the setup's result when it ended before (busy,
 * failed, needs an admin), or with the step-6 continuation once the annotation is written.
 *
 * The setup lock stays held through step 6 although step 6 changes nothing: the lock is also
 * what says "an attempt of this bouncer is running" — `recorder.start` closes the uid's
 * `running` attempts and `closeStaleAttempts` marks one interrupted only when its lock is free —
 * so releasing it at the annotation would let an admin retry or the stale sweep mark a
 * verifying attempt interrupted. A retry meanwhile finds the lock taken and comes back later.
 */
export async function startSetup(
  deps: SetupDeps,
  bouncer: SojuBouncer,
  signal: AbortSignal = new AbortController().signal,
): Promise<SetupResult | Annotated> {
  const name = bouncer.metadata.name;
  const uid = bouncer.metadata.uid;
  if (!uid || !bouncer.metadata.resourceVersion)
    throw new Error(`SojuBouncer ${name} has no metadata.uid/resourceVersion`);
  const lock = await deps.locks.tryAcquire(uid);
  if (!lock) return { outcome: "busy" };
  let handedOver = false;
  try {
    const first = await setupLocked(deps, bouncer, { uid, name }, lock, signal);
    if (first.outcome !== "annotated") return first;
    handedOver = true;
    let verified: Promise<SetupResult> | undefined;
    return {
      outcome: "annotated",
      verify: () =>
        (verified ??= (async () => {
          try {
            return await first.verify();
          } finally {
            await lock.release();
          }
        })()),
    };
  } finally {
    if (!handedOver) await lock.release();
  }
}

/** A read issued ahead of the step that uses it: its failure surfaces when that step awaits it. */
function early<T>(read: Promise<T>): Promise<T> {
  read.catch(() => undefined);
  return read;
}

async function setupLocked(
  deps: SetupDeps,
  bouncer: SojuBouncer,
  ref: BouncerRef,
  lock: SetupLock,
  stop: AbortSignal,
): Promise<SetupResult | Annotated> {
  // Up to the annotation, losing the lock cancels the setup (another replica may hold it now).
  // Step 6 only reads and records this attempt's own rows, which a lost lock session cannot make
  // wrong (the attempt's end overwrites an "interrupted" mark): from then on only `stop` does.
  let signal = AbortSignal.any([stop, lock.lost]);
  const { name } = ref;
  const username = bouncer.spec.username;
  const network = deps.settings.upstreamNetwork;
  const log = deps.log.child({ bouncer: name });
  const started = Date.now();
  const attempt = early(deps.recorder.start(ref));
  // Step records are written in order behind the setup, not awaited before each step.
  const steps = new StepLog(deps.recorder, attempt);
  let step: SetupStep = "read_secret";
  let password: string | undefined;
  let configured = false;
  const enter = (next: SetupStep) => {
    // Cancelled between steps: the attempt stays at the step it completed last — except once
    // the annotation is written, where it was cancelled while about to verify.
    if (configured) step = next;
    if (signal.aborted) throw new SetupCancelled(step, `cancelled: ${errorText(signal.reason)}`);
    // Before the annotation, an unrecordable step is a failure (known here without waiting).
    const unrecorded = configured ? undefined : steps.failed;
    if (unrecorded) {
      step = unrecorded.step;
      throw unrecorded.error;
    }
    step = next;
    deps.onStep?.(next, ref);
    steps.step(next);
  };

  // Cleanup of what the reads ahead opened or left waiting, whatever the outcome.
  let tenantP: Promise<TenantDb> | undefined;
  let tenantClosed = false;
  const closeTenant = async () => {
    if (tenantClosed || !tenantP) return;
    tenantClosed = true;
    await tenantP.then((t) => t.close()).catch(() => undefined);
  };
  let reachChoosePassword: () => void = () => undefined;
  let abandonChoosePassword: (reason: unknown) => void = () => undefined;
  // The soju step starts before ergo's (below); its enable waits for ergo's proof.
  let sojuApplied: Promise<unknown> | undefined;
  let ergoProven: () => void = () => undefined;
  let ergoUnproven: (reason: unknown) => void = () => undefined;

  const fail = async (caught: unknown): Promise<SetupResult> => {
    const error =
      signal.aborted && !(caught instanceof SetupError)
        ? new SetupCancelled(step, `cancelled: ${errorText(signal.reason)}`)
        : caught;
    const outcome = isPermanent(error) ? "needs_admin" : "failed";
    const text = errorText(error, [password]);
    // The end is written after every step record, so `step_reached` never moves back.
    await steps.settled();
    // Without an attempt row there is nothing to record into: the caller retries (as ever).
    const { id, attemptNo } = await attempt;
    await deps.recorder
      .finish(id, outcome, step, text, Date.now() - started)
      .catch((e: unknown) =>
        log.error({ err: scrub(String(e), [password]) }, "could not record the failed attempt"),
      );
    log.warn(
      { attempt: attemptNo, step, error: text, configured, outcome },
      outcome === "needs_admin"
        ? "upstream setup needs an admin; not retrying"
        : "upstream setup failed",
    );
    return { outcome, step, error: text, attemptNo, durationMs: Date.now() - started, configured };
  };

  let passwordSource: PasswordSource = "secret";
  let ergoResult: "created" | "reset" | "existing";
  try {
    deps.onStep?.("read_secret", ref);
    const ownerId = bouncer.metadata.labels?.[LABEL_OWNER];
    if (!ownerId)
      throw new NeedsAdmin(step, `the bouncer has no ${LABEL_OWNER} label: no owner to set up for`);
    if (!UUID.test(ownerId))
      throw new NeedsAdmin(step, `its ${LABEL_OWNER} label "${ownerId}" is not a portal user id`);
    // Refused at sign-in too; a CR made another way still must not loop on it.
    const unusable = unusableAccountName(username, { adminNick: deps.settings.adminNick });
    if (unusable) throw new NeedsAdmin(step, `${unusable.message}: ergo cannot have this account`);

    // The reads every later step needs start now and run beside each other; each step awaits
    // its own, in step order, so a failed read still fails the step that owns it. Writes wait
    // for their step.
    const tenantOpen = early(deps.openTenantDb(name));
    tenantP = tenantOpen;
    const firstLook = early(tenantOpen.then((t) => t.hasUser(username)));
    const ownerAhead = early(deps.ownership.ownerOf(username));
    // Lookup-or-create starts too (its read of the Secret), but its create — the setup's first
    // write — waits for choose_password: the candidate waits until that step is reached.
    const choosing = new Promise<void>((resolve, reject) => {
      reachChoosePassword = resolve;
      abandonChoosePassword = reject;
    });
    choosing.catch(() => undefined); // abandoned before any candidate waited for it
    let candidates:
      | Promise<[{ username: string; password: string } | null, { items: SojuBouncer[] }]>
      | undefined;
    const ensured = early(
      deps.credentials.ensure(username, async () => {
        // No Secret: this bouncer's stored password and the owner's bouncers are the candidates.
        const read = () =>
          early(
            Promise.all([
              tenantOpen.then((t) => t.saslPlainCredentials(username, network)),
              deps.bouncers.listByOwner(ownerId),
            ]),
          );
        candidates ??= read();
        await choosing;
        const [mine, owners] = await (candidates ??= read()); // re-read after a wait
        const adopted = await adoptablePassword(deps, bouncer, mine, owners, signal);
        passwordSource = adopted ? "adopted" : "generated";
        return adopted ?? (deps.generatePassword ?? generatePassword)();
      }),
    );
    // The soju step's round trip is opened ahead where the adapter can (exec: the pod lookup,
    // the WebSocket and the script, which then waits for its stdin and runs nothing before a
    // whole batch arrives), so that by the time the password is chosen only the commands travel.
    deps.soju.prepareUpstreamNetwork?.(name);
    const tenant = await tenantOpen;

    enter("wait_for_soju_user");
    // A user that appeared only after waiting: the reads made before the wait are re-made.
    const fresh = await waitForSojuUser(tenant, username, deps, signal, firstLook);
    if (!fresh) candidates = undefined;

    enter("choose_password");
    await attempt; // the attempt's row exists before anything is written
    reachChoosePassword();
    const credential = await ensured;
    password = credential.password;
    if (!credential.created) passwordSource = "secret"; // it existed, or another setup made it first
    await closeTenant();

    enter("ensure_ergo_account");
    const owner = fresh ? await ownerAhead : await deps.ownership.ownerOf(username);
    refuseForeignAccount(username, ownerId, owner);

    // The soju step begins now, beside ergo's: the network is written disabled and given the
    // credentials while ergo registers and proves them, and it is enabled — soju connects —
    // only once ergo accepted them (the enable is held back on the same exec session). If ergo
    // fails, the enable never runs: the network stays disabled until the retry.
    const proof = new Promise<void>((resolve, reject) => {
      ergoProven = resolve;
      ergoUnproven = reject;
    });
    proof.catch(() => undefined);
    sojuApplied = early(
      deps.soju.applyUpstreamNetwork(
        name,
        username,
        { name: network, addr: deps.settings.upstreamAddr, nick: username, username },
        { username, password },
        { enableAfter: proof },
      ),
    );

    ergoResult = await ensureErgoAccount(deps, username, ownerId, password, owner);

    enter("verify_ergo_credentials");
    if (!(await deps.ergo.checkCredentials(username, password))) {
      throw new SetupError(
        "verify_ergo_credentials",
        `ergo did not accept the credentials it was just given for "${username}"`,
      );
    }

    enter("apply_soju_network");
    // Only now — ergo accepted the password, and the setup still holds its lock and is not
    // stopping (`enter` checked) — may soju connect: the held enable is sent. One round trip:
    // create (or update) disabled, set the credentials, enable, stopping at the first failure.
    ergoProven();
    await sojuApplied;

    enter("annotate");
    // Every step is on record before anything is annotated.
    const unrecorded = await steps.settled();
    if (unrecorded) {
      step = unrecorded.step;
      throw unrecorded.error;
    }
    await annotate(deps, bouncer, lock);
    configured = true;
  } catch (caught) {
    // Awaited here, not returned: the finally below awaits the tenant DB's close, and a `fail`
    // that rejects meanwhile (no attempt row to record into) would have no handler yet.
    return await fail(caught);
  } finally {
    abandonChoosePassword(new SetupCancelled(step, "the setup ended before choosing a password"));
    ergoUnproven(new SetupCancelled(step, "the setup ended before ergo accepted the password"));
    // Nothing of this setup may still be talking to soju once its lock is released.
    await sojuApplied?.catch(() => undefined);
    await closeTenant();
  }

  const verify = async (): Promise<SetupResult> => {
    signal = stop;
    try {
      enter("verify_upstream_login");
      const verdict = await waitForUpstreamLogin(deps, bouncer, signal);
      // The verdict stands even if the DB cannot take it now: the verifier records it again.
      await deps.recorder
        .upstreamState(ref, verdict.state, verdict.account, verdict.detail)
        .catch((e: unknown) =>
          log.warn({ error: errorText(e, [password]) }, "could not record the upstream state"),
        );
      if (verdict.state !== "authenticated") {
        throw new SetupError(
          "verify_upstream_login",
          `not logged in to irc.now after ${Math.round(deps.settings.verifyTimeoutMs / 1000)} s: ${verdict.detail ?? verdict.state}`,
        );
      }
      // After the annotation, bookkeeping does not turn a finished setup into a failure.
      const unrecorded = await steps.settled();
      if (unrecorded)
        log.warn(
          { step: unrecorded.step, error: errorText(unrecorded.error, [password]) },
          "could not record the step",
        );
      const { id, attemptNo } = await attempt;
      // A DB that fails now does not undo a finished setup: the recorder writes the end later.
      await deps.recorder
        .finish(id, "succeeded", "done", null, Date.now() - started)
        .catch((e: unknown) =>
          log.warn({ error: errorText(e, [password]) }, "could not record the attempt's end yet"),
        );
      log.info(
        { attempt: attemptNo, passwordSource, ergo: ergoResult, durationMs: Date.now() - started },
        "upstream setup done: authenticated on irc.now",
      );
      deps.onStep?.("done", ref);
      return {
        outcome: "succeeded",
        authenticated: true,
        attemptNo,
        durationMs: Date.now() - started,
        passwordSource,
        ergo: ergoResult,
      };
    } catch (caught) {
      return await fail(caught);
    }
  };
  return { outcome: "annotated", verify };
}
