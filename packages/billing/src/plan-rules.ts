/**
 * Which plan a Stripe subscription grants (DESIGN.md §3; issue 14): `active` and `trialing` are
 * pro; `past_due` stays pro until `graceDays` after the first failed payment, then free; any other
 * status (`canceled`, `unpaid`, `incomplete`, `incomplete_expired`, `paused`) or none is free.
 */
export type SubscriptionStatus =
  | "incomplete"
  | "incomplete_expired"
  | "trialing"
  | "active"
  | "past_due"
  | "canceled"
  | "unpaid"
  | "paused";

export interface SubscriptionFacts {
  status: SubscriptionStatus | string | null;
  /** When the subscription first went past_due in its current run of failures. */
  pastDueSince: Date | null;
}

export interface PlanVerdict {
  plan: "free" | "pro";
  /** While past_due and still pro: when the grace period ends. */
  graceEndsAt: Date | null;
}

const DAY_MS = 86_400_000;

export function planFor(sub: SubscriptionFacts, now: Date, graceDays: number): PlanVerdict {
  switch (sub.status) {
    case "active":
    case "trialing":
      return { plan: "pro", graceEndsAt: null };
    case "past_due": {
      const since = sub.pastDueSince ?? now;
      const graceEndsAt = new Date(since.getTime() + graceDays * DAY_MS);
      return now < graceEndsAt ? { plan: "pro", graceEndsAt } : { plan: "free", graceEndsAt: null };
    }
    default:
      return { plan: "free", graceEndsAt: null };
  }
}

export interface OwnedBouncer {
  name: string;
  createdAt: Date;
  suspended: boolean;
}

/**
 * Losing pro deletes nothing (DESIGN.md §2): the oldest `quota` bouncers stay active, the newer
 * ones are suspended; when the quota grows again (pro regained, a bouncer deleted) the oldest
 * suspended ones resume first. Ties on creation time are broken by name, so the choice is stable.
 */
export function suspensionPlan(
  bouncers: readonly OwnedBouncer[],
  quota: number,
): { suspend: string[]; resume: string[] } {
  const ordered = [...bouncers].sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.name.localeCompare(b.name),
  );
  const suspend: string[] = [];
  const resume: string[] = [];
  ordered.forEach((b, i) => {
    const shouldSuspend = i >= Math.max(0, quota);
    if (shouldSuspend && !b.suspended) suspend.push(b.name);
    if (!shouldSuspend && b.suspended) resume.push(b.name);
  });
  return { suspend, resume };
}
