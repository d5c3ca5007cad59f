import type { Logger } from "pino";
import { SojuUnsupported } from "@irc-now/soju";
import type { SojuBouncer } from "@irc-now/k8s";
import type { BouncerStore, ErgoPort, SojuAdmin } from "../ports/index";
import type { SetupRecorder, UpstreamState } from "./attempts";
import { errorText } from "./secrets";
import {
  systemClock,
  type LoopClock,
  type VerifyLoopMetrics,
  type VerifyLoopPorts,
} from "./verify-loop";

export interface VerifyDeps {
  bouncers: BouncerStore;
  ergo: ErgoPort;
  soju: SojuAdmin;
  recorder: SetupRecorder;
  network: string;
  log: Logger;
}

export interface Verdict {
  state: UpstreamState;
  account: string | null;
  detail: string | null;
}

const same = (a: string | null | undefined, b: string) =>
  typeof a === "string" && a.toLowerCase() === b.toLowerCase();

/**
 * One read-only look at one bouncer's upstream login (DESIGN.md §2 step 6). This bouncer's own
 * soju `sasl status` is the primary fact: all of a user's bouncers share one nick and account,
 * so ergo's WHOIS of that nick cannot tell them apart. WHOIS then confirms that ergo knows the
 * account logged in. With `SOJU_ADMIN=sql-restart` soju's live state cannot be read: WHOIS is
 * all there is, and the verdict says so.
 */
export async function checkUpstream(
  deps: Pick<VerifyDeps, "ergo" | "soju" | "network">,
  bouncer: SojuBouncer,
): Promise<Verdict> {
  const name = bouncer.metadata.name;
  const username = bouncer.spec.username;
  const status = await deps.soju
    .saslStatus(name, username, deps.network)
    .catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  const whois = () =>
    deps.ergo.whois(username).then(
      (account) => ({ account }),
      (e: unknown) => ({ error: errorText(e) }),
    );

  // soju cannot tell (the sql-restart adapter reads only its DB): ergo's WHOIS is all there is.
  if (
    status instanceof SojuUnsupported ||
    (!(status instanceof Error) && status.state.kind === "unknown")
  ) {
    const seen = await whois();
    if ("error" in seen)
      return { state: "unknown", account: null, detail: `ergo did not answer: ${seen.error}` };
    return same(seen.account, username)
      ? {
          state: "authenticated",
          account: seen.account,
          detail: "per ergo's WHOIS only: this bouncer's own SASL state cannot be read",
        }
      : {
          state: "unknown",
          account: seen.account,
          detail:
            "ergo does not show the nick logged in; this bouncer's own SASL state cannot be read",
        };
  }
  if (status instanceof Error)
    return { state: "unknown", account: null, detail: `soju did not answer: ${errorText(status)}` };

  switch (status.state.kind) {
    case "authenticated": {
      const account = status.state.account;
      if (!same(account, username))
        return {
          state: "unauthenticated",
          account,
          detail: `soju is logged in to irc.now as "${account}", not as "${username}"`,
        };
      const seen = await whois();
      if ("error" in seen)
        return { state: "authenticated", account, detail: `not confirmed by ergo: ${seen.error}` };
      if (same(seen.account, username)) return { state: "authenticated", account, detail: null };
      return {
        state: "unknown",
        account,
        detail: `soju reports a login as ${account}, but ergo shows no one logged in as ${username}`,
      };
    }
    case "unauthenticated":
      return {
        state: "unauthenticated",
        account: null,
        detail: "soju is connected to irc.now but its SASL login failed",
      };
    case "disconnected":
      return { state: "disconnected", account: null, detail: "soju is not connected to irc.now" };
    default:
      return { state: "unknown", account: null, detail: "soju gave no SASL state" };
  }
}

/**
 * Checks one configured bouncer, read-only, and records its state, unless `signal` aborted
 * meanwhile (its deadline passed: the verify loop recorded that instead).
 */
export async function verifyBouncer(
  deps: VerifyDeps,
  bouncer: SojuBouncer,
  signal?: AbortSignal,
): Promise<Verdict> {
  const verdict = await checkUpstream(deps, bouncer);
  if (signal?.aborted) return verdict;
  await deps.recorder.upstreamState(
    { uid: bouncer.metadata.uid ?? "", name: bouncer.metadata.name },
    verdict.state,
    verdict.account,
    verdict.detail,
  );
  return verdict;
}

/** The verify loop's ports (verify-loop.ts) over the worker's own. */
export function verifyLoopPorts(
  deps: VerifyDeps,
  clock: LoopClock = systemClock,
  metrics?: VerifyLoopMetrics,
): VerifyLoopPorts {
  return {
    list: async () => (await deps.bouncers.list()).items,
    check: (bouncer, signal) => verifyBouncer(deps, bouncer, signal),
    timedOut: (bouncer, detail) =>
      deps.recorder.upstreamState(
        { uid: bouncer.metadata.uid ?? "", name: bouncer.metadata.name },
        "unknown",
        null,
        detail,
      ),
    clock,
    ...(metrics ? { metrics } : {}),
    onError: (bouncer, error) =>
      deps.log.warn({ bouncer, error: errorText(error) }, "verification failed"),
  };
}
