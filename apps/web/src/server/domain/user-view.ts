import type { SojuBouncer } from "@irc-now/k8s";
import { startFailed, type BouncerView, type SetupOutcome } from "./status";

/**
 * What a bouncer's owner sees. Users get plain words about which part of the setup a bouncer is
 * in and what they can do; never the worker's, soju's, ergo's, the operator's or Kubernetes'
 * own texts (they name oper and DB users, hosts, IPs, service accounts, pods). Those stay in
 * the admin views. Everything a user reads about a bouncer's state comes from the table below.
 */

/** What the user can do about a problem. */
export type UserAction = "wait" | "contact_support";

export interface UserProblem {
  /** The part of the setup it is about, in plain words. */
  step: string;
  /** What happened, in plain words. */
  text: string;
  action: UserAction;
  /** What to do, in plain words. */
  advice: string;
}

export interface UserBouncerView {
  name: string;
  uid: string | null;
  username: string;
  plan: "free" | "pro";
  ownerId: string | null;
  createdAt: string | null;
  phase: BouncerView["phase"];
  ready: boolean;
  configured: boolean;
  /** The account only when logged in as the user's own (another name would be someone else's). */
  upstream: { state: UpstreamState; account: string | null; checkedAt: Date } | null;
  lastAttempt: {
    attemptNo: number;
    outcome: SetupOutcome;
    step: string;
    startedAt: Date;
    finishedAt: Date | null;
  } | null;
  /** What is happening now, in plain words; null when nothing is under way. */
  detail: string | null;
  problem: UserProblem | null;
  /** Set while the bouncer is suspended (IRC logins refused): why, and how to resume it. */
  suspension: UserSuspension | null;
  connection: BouncerView["connection"];
}

export interface UserSuspension {
  since: Date;
  /** Why, in plain words ("…; this one is suspended"); the UI adds "since <date>". */
  text: string;
  /** How to resume it, in plain words. */
  advice: string;
  /** Whether /billing (upgrading) is a way to resume it. */
  upgrade: boolean;
}

/** A suspension as the accounts DB holds it (`bouncers.suspended_at` / `suspended_reason`). */
export interface SuspensionFacts {
  since: Date;
  reason: string | null;
  plan: "free" | "pro";
  /** The bouncers the owner's current plan includes. */
  quota: number;
}

const plural = (n: number) => `${n} bouncer${n === 1 ? "" : "s"}`;

/** The words for a suspended bouncer (`over_quota`: @irc-now/billing's OVER_QUOTA). */
export function suspensionWords(facts: SuspensionFacts): UserSuspension {
  if (facts.reason !== "over_quota")
    return {
      since: facts.since,
      text: "This bouncer is suspended",
      advice: "IRC logins to it are refused. Please contact irc.now support to resume it.",
      upgrade: false,
    };
  if (facts.plan === "free")
    return {
      since: facts.since,
      text: `Your free plan includes ${plural(facts.quota)}; this one is suspended`,
      advice:
        "IRC logins to it are refused until it resumes: upgrade to pro or delete another bouncer to resume it. Nothing in it was deleted.",
      upgrade: true,
    };
  return {
    since: facts.since,
    text: `Your pro plan includes ${plural(facts.quota)}; this one is suspended`,
    advice:
      "IRC logins to it are refused until it resumes: delete another bouncer to resume it. Nothing in it was deleted.",
    upgrade: false,
  };
}

type UpstreamState = NonNullable<BouncerView["upstream"]>["state"];

/** The worker's setup steps (DESIGN.md §2), as a user would name them. */
export const setupStepWords: Record<string, string> = {
  read_secret: "Reading your bouncer's settings",
  wait_for_soju_user: "Waiting for your bouncer to start",
  choose_password: "Preparing your login",
  ensure_ergo_account: "Creating your irc.now IRC account",
  verify_ergo_credentials: "Checking your irc.now IRC account",
  apply_soju_network: "Adding the irc.now network to your bouncer",
  annotate: "Saving the setup",
  verify_upstream_login: "Checking that your bouncer is logged in to irc.now",
  done: "Setup finished",
};

const stepWords = (step: string | undefined) =>
  (step && setupStepWords[step]) ?? "Setting up the irc.now network";

const lower = (words: string) => words.charAt(0).toLowerCase() + words.slice(1);

const advice = {
  retries:
    "We retry automatically; you don't need to do anything. If it keeps failing for more than an hour, please contact irc.now support.",
  staff:
    "You don't need to do anything; this page updates by itself once it is sorted. If it takes more than a day, please contact irc.now support.",
  reconnects:
    "It reconnects by itself: please wait a few minutes. If it stays like this, please contact irc.now support.",
  support:
    "Please contact irc.now support: an administrator can set it up again. Deleting and re-creating the bouncer does not fix this.",
} as const;

/**
 * A `needs_admin` verdict at the ergo-account step is about the user's account name (an ergo
 * account the portal does not own, or one ergo refuses) — unless ergo refused our own oper
 * credentials, which is about our configuration. The raw text only picks the words here; it is
 * never shown.
 */
const ourOwnErgoAccess = (error: string | null) => /^OperAuthFailed\b/.test(error ?? "");

/** The one mapping: a bouncer's state → what its owner reads. */
export function userWordsOf(
  bouncer: SojuBouncer,
  view: BouncerView,
): { detail: string | null; problem: UserProblem | null } {
  const attempt = view.lastAttempt;
  switch (view.phase) {
    case "deleting":
      return { detail: "Deleting your bouncer", problem: null };
    case "provisioning":
      if (startFailed(bouncer))
        return {
          detail: null,
          problem: {
            step: "Starting your bouncer",
            text: "Your bouncer could not start.",
            action: "wait",
            advice: advice.retries,
          },
        };
      return { detail: "Starting your bouncer", problem: null };
    case "needs_admin": {
      const step = stepWords(attempt?.step);
      if (attempt?.step === "ensure_ergo_account" && !ourOwnErgoAccess(attempt.error))
        return {
          detail: null,
          problem: {
            step,
            text:
              "Waiting for irc.now staff: your IRC account name needs a check by an administrator " +
              "before we can finish setting up your bouncer.",
            action: "wait",
            advice: advice.staff,
          },
        };
      return {
        detail: null,
        problem: {
          step,
          text: `Waiting for irc.now staff: setting up your bouncer stopped while ${lower(step)}, on a problem on our side that an administrator needs to fix.`,
          action: "wait",
          advice: advice.staff,
        },
      };
    }
    case "ready":
      if (attempt?.outcome === "failed") {
        const step = stepWords(attempt.step);
        return {
          detail: null,
          problem: {
            step,
            text: `Setting up the irc.now network stopped while ${lower(step)}.`,
            action: "wait",
            advice: advice.retries,
          },
        };
      }
      return {
        detail: attempt?.outcome === "running" ? stepWords(attempt.step) : stepWords(undefined),
        problem: null,
      };
    case "configured":
      if (view.upstream?.state === "unauthenticated")
        return {
          detail: null,
          problem: {
            step: "Logging in to irc.now",
            text: "Your bouncer is connected to irc.now but is not logged in to your account.",
            action: "contact_support",
            advice: advice.support,
          },
        };
      if (view.upstream?.state === "disconnected")
        return {
          detail: null,
          problem: {
            step: "Connecting to irc.now",
            text: "Your bouncer is not connected to irc.now right now.",
            action: "wait",
            advice: advice.reconnects,
          },
        };
      return { detail: stepWords("verify_upstream_login"), problem: null };
    case "authenticated":
      return { detail: null, problem: null };
  }
}

/** A bouncer as its owner sees it: built field by field, so no admin-only field can slip in. */
export function toUserView(
  bouncer: SojuBouncer,
  view: BouncerView,
  suspension: SuspensionFacts | null = null,
): UserBouncerView {
  const { upstream, lastAttempt: a } = view;
  return {
    name: view.name,
    uid: view.uid,
    username: view.username,
    plan: view.plan,
    ownerId: view.ownerId,
    createdAt: view.createdAt,
    phase: view.phase,
    ready: view.ready,
    configured: view.configured,
    upstream: upstream && {
      state: upstream.state,
      account: upstream.state === "authenticated" ? upstream.account : null,
      checkedAt: upstream.checkedAt,
    },
    lastAttempt: a && {
      attemptNo: a.attemptNo,
      outcome: a.outcome,
      step: a.step,
      startedAt: a.startedAt,
      finishedAt: a.finishedAt,
    },
    ...userWordsOf(bouncer, view),
    suspension: suspension && suspensionWords(suspension),
    connection: view.connection,
  };
}
