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
  /** Reports each step as it starts (the CLI prints them). */
  onStep?: (step: SetupStep) => void;
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

async function waitForSojuUser(
  tenant: TenantDb,
  username: string,
  deps: SetupDeps,
  signal: AbortSignal,
): Promise<void> {
  const sleep = deps.sleep ?? abortableSleep;
  for (let i = 0; i < deps.settings.userWaitAttempts; i++) {
    if (await tenant.hasUser(username)) return;
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
 */
async function adoptablePassword(
  deps: SetupDeps,
  bouncer: SojuBouncer,
  own: TenantDb,
  ownerId: string,
  signal: AbortSignal,
): Promise<string | null> {
  const username = bouncer.spec.username;
  const network = deps.settings.upstreamNetwork;
  const accepted = async (tenant: TenantDb) => {
    const stored = await tenant.saslPlainCredentials(username, network);
    return stored?.password &&
      stored.username.toLowerCase() === username.toLowerCase() &&
      (await deps.ergo.checkCredentials(username, stored.password))
      ? stored.password
      : null;
  };
  // This bouncer first, on the connection the setup already has open.
  const mine = await accepted(own);
  if (mine) return mine;
  const { items } = await deps.bouncers.listByOwner(ownerId);
  for (const b of items) {
    if (b.spec.username !== username || b.metadata.name === bouncer.metadata.name) continue;
    signal.throwIfAborted();
    let tenant: TenantDb | undefined;
    try {
      tenant = await deps.openTenantDb(b.metadata.name);
      const password = await accepted(tenant);
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

/**
 * Step 3: make the ergo account accept `password`, resetting it only when the portal owns it for
 * this same user. An existing account the portal does not own is never reset: unless ergo
 * already accepts the user's credential (then the portal made it, e.g. a registration whose
 * ownership row was lost), the setup stops for an admin.
 */
async function ensureErgoAccount(
  deps: SetupDeps,
  username: string,
  ownerId: string,
  password: string,
): Promise<"created" | "reset" | "existing"> {
  const step = "ensure_ergo_account";
  const owner = await deps.ownership.ownerOf(username);
  if (owner !== null && owner !== ownerId)
    throw new NeedsAdmin(
      step,
      `ergo account "${username}" is owned by another portal user (${owner}); it is not reset`,
    );
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
 * Upstream setup for one Ready, unannotated bouncer (DESIGN.md §2 steps 1–7), under the
 * bouncer's setup lock. `signal` cancels it between steps (the worker is stopping); losing the
 * lock cancels it too. Every attempt is recorded; no secret reaches a log line or an error text.
 */
export async function runSetup(
  deps: SetupDeps,
  bouncer: SojuBouncer,
  signal: AbortSignal = new AbortController().signal,
): Promise<SetupResult> {
  const name = bouncer.metadata.name;
  const uid = bouncer.metadata.uid;
  if (!uid || !bouncer.metadata.resourceVersion)
    throw new Error(`SojuBouncer ${name} has no metadata.uid/resourceVersion`);
  const lock = await deps.locks.tryAcquire(uid);
  if (!lock) return { outcome: "busy" };
  try {
    return await setupLocked(
      deps,
      bouncer,
      { uid, name },
      lock,
      AbortSignal.any([signal, lock.lost]),
    );
  } finally {
    await lock.release();
  }
}

async function setupLocked(
  deps: SetupDeps,
  bouncer: SojuBouncer,
  ref: BouncerRef,
  lock: SetupLock,
  signal: AbortSignal,
): Promise<SetupResult> {
  const { name } = ref;
  const username = bouncer.spec.username;
  const network = deps.settings.upstreamNetwork;
  const log = deps.log.child({ bouncer: name });
  const started = Date.now();
  const attempt = await deps.recorder.start(ref);
  let step: SetupStep = "read_secret";
  let password: string | undefined;
  let tenant: TenantDb | undefined;
  let configured = false;
  const enter = async (next: SetupStep) => {
    // Cancelled between steps: the attempt stays at the step it completed last — except once
    // the annotation is written, where it was cancelled while about to verify.
    if (configured) step = next;
    if (signal.aborted) throw new SetupCancelled(step, `cancelled: ${errorText(signal.reason)}`);
    step = next;
    deps.onStep?.(next);
    const recorded = deps.recorder.step(attempt.id, next);
    if (!configured) return recorded; // before the annotation, an unrecordable step is a failure
    // After it, the setup is done but for verifying: bookkeeping must not turn it into a failure
    // (the attempt's end is written later, by the recorder).
    await recorded.catch((e: unknown) =>
      log.warn({ step: next, error: errorText(e, [password]) }, "could not record the step"),
    );
  };

  try {
    deps.onStep?.("read_secret");
    const ownerId = bouncer.metadata.labels?.[LABEL_OWNER];
    if (!ownerId)
      throw new NeedsAdmin(step, `the bouncer has no ${LABEL_OWNER} label: no owner to set up for`);
    if (!UUID.test(ownerId))
      throw new NeedsAdmin(step, `its ${LABEL_OWNER} label "${ownerId}" is not a portal user id`);
    // Refused at sign-in too; a CR made another way still must not loop on it.
    const unusable = unusableAccountName(username, { adminNick: deps.settings.adminNick });
    if (unusable) throw new NeedsAdmin(step, `${unusable.message}: ergo cannot have this account`);
    tenant = await deps.openTenantDb(name);

    await enter("wait_for_soju_user");
    await waitForSojuUser(tenant, username, deps, signal);

    await enter("choose_password");
    // Lookup-or-create: the candidate (adopted or generated) is made only when no Secret exists.
    const own = tenant;
    let passwordSource: PasswordSource = "secret";
    const ensured = await deps.credentials.ensure(username, async () => {
      const adopted = await adoptablePassword(deps, bouncer, own, ownerId, signal);
      passwordSource = adopted ? "adopted" : "generated";
      return adopted ?? (deps.generatePassword ?? generatePassword)();
    });
    password = ensured.password;
    if (!ensured.created) passwordSource = "secret"; // it existed, or another setup made it first
    await tenant.close();
    tenant = undefined;

    await enter("ensure_ergo_account");
    const ergoResult = await ensureErgoAccount(deps, username, ownerId, password);

    await enter("verify_ergo_credentials");
    if (!(await deps.ergo.checkCredentials(username, password))) {
      throw new SetupError(
        "verify_ergo_credentials",
        `ergo did not accept the credentials it was just given for "${username}"`,
      );
    }

    await enter("apply_soju_network");
    // One round trip: create (or update) disabled, set the credentials, enable — in that order,
    // stopping at the first failure, so soju never connects without the credentials.
    await deps.soju.applyUpstreamNetwork(
      name,
      username,
      { name: network, addr: deps.settings.upstreamAddr, nick: username, username },
      { username, password },
    );

    await enter("annotate");
    await annotate(deps, bouncer, lock);
    configured = true;

    await enter("verify_upstream_login");
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
    // A DB that fails now does not undo a finished setup: the recorder writes the end later.
    await deps.recorder
      .finish(attempt.id, "succeeded", "done", null, Date.now() - started)
      .catch((e: unknown) =>
        log.warn({ error: errorText(e, [password]) }, "could not record the attempt's end yet"),
      );
    log.info(
      {
        attempt: attempt.attemptNo,
        passwordSource,
        ergo: ergoResult,
        durationMs: Date.now() - started,
      },
      "upstream setup done: authenticated on irc.now",
    );
    deps.onStep?.("done");
    return {
      outcome: "succeeded",
      authenticated: true,
      attemptNo: attempt.attemptNo,
      durationMs: Date.now() - started,
      passwordSource,
      ergo: ergoResult,
    };
  } catch (caught) {
    const error =
      signal.aborted && !(caught instanceof SetupError)
        ? new SetupCancelled(step, `cancelled: ${errorText(signal.reason)}`)
        : caught;
    const outcome = isPermanent(error) ? "needs_admin" : "failed";
    const text = errorText(error, [password]);
    await deps.recorder
      .finish(attempt.id, outcome, step, text, Date.now() - started)
      .catch((e: unknown) =>
        log.error({ err: scrub(String(e), [password]) }, "could not record the failed attempt"),
      );
    log.warn(
      { attempt: attempt.attemptNo, step, error: text, configured, outcome },
      outcome === "needs_admin"
        ? "upstream setup needs an admin; not retrying"
        : "upstream setup failed",
    );
    return {
      outcome,
      step,
      error: text,
      attemptNo: attempt.attemptNo,
      durationMs: Date.now() - started,
      configured,
    };
  } finally {
    await tenant?.close().catch(() => undefined);
  }
}
