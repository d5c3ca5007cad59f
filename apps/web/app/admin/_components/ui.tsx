import Link from "next/link";
import type { TRPCClientErrorLike } from "@trpc/client";
import type { AppRouter } from "~/server/api/root";
import {
  formatDateTime,
  formatRelative,
  outcomeLabel,
  phaseLabel,
  upstreamLabel,
  type Outcome,
  type Phase,
  type UpstreamState,
} from "./format";

/** Visible keyboard focus on every interactive element. */
export const focusRing =
  "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400";

export const inputClass = `rounded-md border border-slate-700 bg-slate-950 px-3 py-2 text-sm text-slate-100 placeholder:text-slate-400 ${focusRing}`;

type Tone = "emerald" | "sky" | "amber" | "red" | "slate";

const toneClass: Record<Tone, string> = {
  emerald: "border-emerald-700/70 bg-emerald-500/10 text-emerald-200",
  sky: "border-sky-700/70 bg-sky-500/10 text-sky-200",
  amber: "border-amber-700/70 bg-amber-500/10 text-amber-200",
  red: "border-red-800/80 bg-red-500/10 text-red-200",
  slate: "border-slate-700 bg-slate-800/60 text-slate-300",
};

export function Badge({ tone, children }: { tone: Tone; children: React.ReactNode }) {
  return (
    <span
      className={`inline-flex items-center gap-1 rounded-full border px-2 py-0.5 text-xs font-medium whitespace-nowrap ${toneClass[tone]}`}
    >
      {children}
    </span>
  );
}

const phaseTone: Record<Phase, Tone> = {
  provisioning: "sky",
  ready: "sky",
  needs_admin: "red",
  configured: "amber",
  authenticated: "emerald",
  deleting: "slate",
};
const outcomeTone: Record<Outcome, Tone> = {
  running: "sky",
  succeeded: "emerald",
  failed: "red",
  needs_admin: "red",
};
const upstreamTone: Record<UpstreamState, Tone> = {
  authenticated: "emerald",
  unauthenticated: "amber",
  disconnected: "red",
  unknown: "slate",
};

export function PhaseBadge({ phase }: { phase: Phase }) {
  return (
    <Badge tone={phaseTone[phase]}>
      {phase === "needs_admin" && <span aria-hidden="true">!</span>}
      {phaseLabel[phase]}
    </Badge>
  );
}

export function OutcomeBadge({ outcome }: { outcome: Outcome }) {
  return (
    <Badge tone={outcomeTone[outcome]}>
      <span aria-hidden="true">
        {outcome === "succeeded"
          ? "✓"
          : outcome === "failed"
            ? "✕"
            : outcome === "needs_admin"
              ? "!"
              : "…"}
      </span>
      {outcomeLabel[outcome]}
    </Badge>
  );
}

export function UpstreamBadge({ state }: { state: UpstreamState | null }) {
  return state ? (
    <Badge tone={upstreamTone[state]}>{upstreamLabel[state]}</Badge>
  ) : (
    <Badge tone="slate">Not checked yet</Badge>
  );
}

/** Yes/No with a symbol; the word carries the meaning, not the colour. */
export function YesNo({ value }: { value: boolean }) {
  return value ? (
    <span className="text-emerald-300">
      <span aria-hidden="true">✓ </span>Yes
    </span>
  ) : (
    <span className="text-slate-400">
      <span aria-hidden="true">✕ </span>No
    </span>
  );
}

/** "4 minutes ago", with the exact time as a tooltip and in the machine-readable attribute. */
export function RelativeTime({ date }: { date: Date }) {
  return (
    <time dateTime={date.toISOString()} title={formatDateTime(date)}>
      {formatRelative(date)}
    </time>
  );
}

export type AppError = TRPCClientErrorLike<AppRouter>;

/** The person-readable text of a tRPC error: a field message, the server's message, or a network hint. */
export function errorText(error: AppError): string {
  const fieldErrors = error.data?.fieldErrors;
  if (fieldErrors) {
    const first = Object.values(fieldErrors)[0];
    if (first) return first;
  }
  if (!error.data) return "Could not reach irc.now. Check your connection; the page keeps trying.";
  return error.message;
}

/** An error box with role="alert"; offers sign-in when the session has ended. */
export function ErrorNotice({
  error,
  prefix,
  className = "",
}: {
  error: AppError;
  prefix?: string;
  className?: string;
}) {
  return (
    <div
      role="alert"
      className={`rounded-md border border-red-900 bg-red-950/40 p-4 text-sm text-red-200 ${className}`}
    >
      {prefix && <span className="font-medium">{prefix} </span>}
      {errorText(error)}
      {error.data?.code === "UNAUTHORIZED" && (
        <>
          {" "}
          <Link
            href="/signin?callbackUrl=/admin"
            className={`font-medium text-red-100 underline ${focusRing}`}
          >
            Sign in again
          </Link>
        </>
      )}
    </div>
  );
}
