import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { SojuBouncer } from "@irc-now/k8s";
import type { BouncerStore, ErgoPort, OpenTenantDb, SojuAdmin, TenantDb } from "../ports/index";
import type { SetupRecorder, SetupStep } from "./attempts";
import { errorText, scrub } from "./secrets";

export interface SetupSettings {
  upstreamAddr: string;
  upstreamNetwork: string;
  /** Checks for soju's user row before giving up (soju may still be starting). */
  userWaitAttempts: number;
  userWaitBaseMs: number;
  /** How long step 6 waits for ergo to show the nick logged in. */
  verifyTimeoutMs: number;
  /** Step 6 looks again after verifyFirstPollMs, doubling up to verifyPollMs between WHOIS. */
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
  recorder: SetupRecorder;
  settings: SetupSettings;
  log: Logger;
  /** Reports each step as it starts (the CLI prints them). */
  onStep?: (step: SetupStep) => void;
  sleep?: (ms: number) => Promise<void>;
  generatePassword?: () => string;
}

export type SetupResult =
  | {
      outcome: "succeeded";
      authenticated: true;
      attemptNo: number;
      durationMs: number;
      passwordSource: "reused" | "generated";
      ergo: "created" | "reset";
    }
  | {
      outcome: "failed";
      step: SetupStep;
      error: string;
      attemptNo: number;
      durationMs: number;
      configured: boolean;
    };

/** A failure the caller should retry later (with backoff); the bouncer stays unannotated. */
export class SetupError extends Error {
  override readonly name = "SetupError";
  constructor(
    readonly step: SetupStep,
    message: string,
  ) {
    super(message);
  }
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** 32 random bytes, URL-safe: no spaces or quotes, so no quoting surprises anywhere. */
export const generatePassword = () => randomBytes(24).toString("base64url");

async function waitForSojuUser(tenant: TenantDb, username: string, deps: SetupDeps): Promise<void> {
  const sleep = deps.sleep ?? realSleep;
  for (let i = 0; i < deps.settings.userWaitAttempts; i++) {
    if (await tenant.hasUser(username)) return;
    if (i < deps.settings.userWaitAttempts - 1)
      await sleep(Math.min(deps.settings.userWaitBaseMs * 2 ** i, 10_000));
  }
  throw new SetupError(
    "wait_for_soju_user",
    `soju has no user "${username}" after ${deps.settings.userWaitAttempts} checks`,
  );
}

/**
 * Step 6: ergo shows the nick logged in as the account, within a bounded time. soju usually logs
 * in within tens of ms of the network being enabled, so the first re-checks come soon and then
 * back off to verifyPollMs: a setup does not hold its queue slot for a whole poll interval.
 */
export async function waitForUpstreamLogin(
  deps: Pick<SetupDeps, "ergo" | "settings" | "sleep">,
  username: string,
): Promise<string | null> {
  const sleep = deps.sleep ?? realSleep;
  const { verifyTimeoutMs, verifyPollMs } = deps.settings;
  const deadline = Date.now() + verifyTimeoutMs;
  let delay = Math.min(deps.settings.verifyFirstPollMs, verifyPollMs);
  let account: string | null = null;
  for (;;) {
    account = await deps.ergo.whois(username).catch(() => null);
    if (account && account.toLowerCase() === username.toLowerCase()) return account;
    if (Date.now() >= deadline) return account;
    await sleep(delay);
    delay = Math.min(delay * 2, verifyPollMs);
  }
}

/**
 * Upstream setup for one Ready, unannotated bouncer (DESIGN.md §2 steps 1–7). Throws SetupError
 * (or any error) for failures before the annotation, which the caller retries with backoff.
 * Every attempt is recorded; no secret reaches a log line or the attempt's error text.
 */
export async function runSetup(deps: SetupDeps, bouncer: SojuBouncer): Promise<SetupResult> {
  const name = bouncer.metadata.name;
  const username = bouncer.spec.username;
  const network = deps.settings.upstreamNetwork;
  const log = deps.log.child({ bouncer: name });
  const started = Date.now();
  const attempt = await deps.recorder.start(name);
  let step: SetupStep = "read_secret";
  let password: string | undefined;
  let tenant: TenantDb | undefined;
  let configured = false;
  const enter = async (next: SetupStep) => {
    step = next;
    deps.onStep?.(next);
    await deps.recorder.step(attempt.id, next);
  };

  try {
    deps.onStep?.("read_secret");
    tenant = await deps.openTenantDb(name);

    await enter("wait_for_soju_user");
    await waitForSojuUser(tenant, username, deps);

    await enter("choose_password");
    const stored = await tenant.saslPlainCredentials(username, network);
    // soju's stored credential is the source of truth: ergo is made to match it.
    const passwordSource =
      stored && stored.username.toLowerCase() === username.toLowerCase() && stored.password
        ? "reused"
        : "generated";
    password =
      passwordSource === "reused"
        ? stored!.password
        : (deps.generatePassword ?? generatePassword)();
    await tenant.close();
    tenant = undefined;

    await enter("ensure_ergo_account");
    const ergoResult = await deps.ergo.ensureAccount(username, password);

    await enter("verify_ergo_credentials");
    if (!(await deps.ergo.checkCredentials(username, password))) {
      throw new SetupError(
        "verify_ergo_credentials",
        `ergo did not accept the credentials it was just given for "${username}"`,
      );
    }

    await enter("apply_soju_network");
    await deps.soju.createOrUpdateNetwork(name, username, {
      name: network,
      addr: deps.settings.upstreamAddr,
      nick: username,
      username,
      enabled: false,
    });
    await deps.soju.setSaslPlain(name, username, network, username, password);
    await deps.soju.enableNetwork(name, username, network);

    await enter("annotate");
    await deps.bouncers.markConfigured(name);
    configured = true;

    await enter("verify_upstream_login");
    const account = await waitForUpstreamLogin(deps, username);
    if (account?.toLowerCase() !== username.toLowerCase()) {
      const status = await deps.soju.saslStatus(name, username, network).catch(() => null);
      const state =
        status?.state.kind === "unauthenticated"
          ? "unauthenticated"
          : status?.state.kind === "disconnected"
            ? "disconnected"
            : "unknown";
      const detail = `ergo does not show ${username} logged in after ${Math.round(deps.settings.verifyTimeoutMs / 1000)} s (soju: ${state})`;
      await deps.recorder.upstreamState(name, state, null, detail);
      throw new SetupError("verify_upstream_login", detail);
    }
    await deps.recorder.upstreamState(name, "authenticated", account, null);
    await deps.recorder.finish(attempt.id, "succeeded", "done", null, Date.now() - started);
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
  } catch (error) {
    const text = errorText(error, [password]);
    await deps.recorder
      .finish(attempt.id, "failed", step, text, Date.now() - started)
      .catch((e: unknown) =>
        log.error({ err: scrub(String(e), [password]) }, "could not record the failed attempt"),
      );
    log.warn(
      { attempt: attempt.attemptNo, step, error: text, configured },
      "upstream setup failed",
    );
    return {
      outcome: "failed",
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
