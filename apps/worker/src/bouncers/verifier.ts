import type { Logger } from "pino";
import { isConfigured, isDeleting, type SojuBouncer } from "@irc-now/k8s";
import type { BouncerStore, ErgoPort, SojuAdmin } from "../ports/index";
import type { SetupRecorder, UpstreamState } from "./attempts";
import { errorText } from "./secrets";

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

/**
 * Read-only check of one configured bouncer: ergo's WHOIS is the proof of login; soju's
 * `sasl status` only explains a failure. Nothing is changed on soju or ergo.
 */
export async function verifyBouncer(deps: VerifyDeps, bouncer: SojuBouncer): Promise<Verdict> {
  const username = bouncer.spec.username;
  let verdict: Verdict;
  try {
    const account = await deps.ergo.whois(username);
    if (account && account.toLowerCase() === username.toLowerCase()) {
      verdict = { state: "authenticated", account, detail: null };
    } else {
      const status = await deps.soju
        .saslStatus(bouncer.metadata.name, username, deps.network)
        .catch((e: unknown) => e as Error);
      if (status instanceof Error)
        verdict = {
          state: "unknown",
          account,
          detail: `soju did not answer: ${errorText(status)}`,
        };
      else if (status.state.kind === "unauthenticated")
        verdict = {
          state: "unauthenticated",
          account,
          detail: "soju is connected to irc.now but SASL login failed",
        };
      else if (status.state.kind === "disconnected")
        verdict = { state: "disconnected", account, detail: "soju is not connected to irc.now" };
      else if (status.state.kind === "authenticated")
        verdict = {
          state: "unknown",
          account,
          detail: `soju reports a login as ${status.state.account}, but ergo does not show ${username} logged in`,
        };
      else verdict = { state: "unknown", account, detail: "soju gave no SASL state" };
    }
  } catch (error) {
    verdict = {
      state: "unknown",
      account: null,
      detail: `ergo did not answer: ${errorText(error)}`,
    };
  }
  await deps.recorder.upstreamState(
    bouncer.metadata.name,
    verdict.state,
    verdict.account,
    verdict.detail,
  );
  return verdict;
}

/** Verifies every configured bouncer, a few at a time; returns the count per state. */
export async function verifyAll(
  deps: VerifyDeps,
  concurrency = 4,
): Promise<Record<UpstreamState, number>> {
  const { items } = await deps.bouncers.list();
  const todo = items.filter((b) => isConfigured(b) && !isDeleting(b));
  const counts: Record<UpstreamState, number> = {
    authenticated: 0,
    unauthenticated: 0,
    disconnected: 0,
    unknown: 0,
  };
  const workers = Array.from({ length: concurrency }, async () => {
    for (let b = todo.shift(); b; b = todo.shift()) {
      const v = await verifyBouncer(deps, b).catch((e: unknown) => {
        deps.log.warn({ bouncer: b!.metadata.name, error: errorText(e) }, "verification failed");
        return { state: "unknown" as const };
      });
      counts[v.state] += 1;
    }
  });
  await Promise.all(workers);
  return counts;
}
