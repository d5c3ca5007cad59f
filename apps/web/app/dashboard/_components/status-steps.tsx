import type { RouterOutputs } from "~/trpc/react";

type Bouncer = RouterOutputs["bouncer"]["mine"]["bouncers"][number];

const steps = [
  { key: "provisioning", label: "Provisioning" },
  { key: "ready", label: "Ready" },
  { key: "configured", label: "Upstream configured" },
  { key: "authenticated", label: "Authenticated on irc.now" },
] as const;

const order = {
  provisioning: 0,
  ready: 1,
  needs_admin: 1,
  configured: 2,
  authenticated: 3,
  deleting: -1,
} as const;

export const phaseLabel: Record<Bouncer["phase"], string> = {
  provisioning: "Provisioning",
  ready: "Setting up irc.now",
  needs_admin: "Waiting for irc.now staff",
  configured: "Upstream configured",
  authenticated: "Authenticated on irc.now",
  deleting: "Deleting",
};

/** provisioning → ready → upstream configured → authenticated, with the current step marked. */
export function StatusSteps({ bouncer }: { bouncer: Bouncer }) {
  const current = order[bouncer.phase];
  return (
    <ol className="mt-4 grid gap-2 sm:grid-cols-4" aria-label={`Status of ${bouncer.name}`}>
      {steps.map((step, i) => {
        const done = current > i || (current === 3 && i === 3);
        const active = current === i && !done;
        // The step a problem is about: marked, and said, not only coloured.
        const stuck = active && bouncer.problem !== null;
        return (
          <li
            key={step.key}
            aria-current={active ? "step" : undefined}
            className={`flex items-center gap-2 rounded-md border px-3 py-2 text-sm ${
              done
                ? "border-emerald-700 bg-emerald-500/10 text-emerald-200"
                : stuck
                  ? "border-amber-700 bg-amber-500/10 text-amber-200"
                  : active
                    ? "border-sky-700 bg-sky-500/10 text-sky-200"
                    : "border-slate-800 text-slate-400"
            }`}
          >
            <span aria-hidden="true">{done ? "✓" : stuck ? "!" : active ? "…" : "·"}</span>
            {step.label}
            {stuck && <span className="sr-only"> (needs attention)</span>}
          </li>
        );
      })}
    </ol>
  );
}
