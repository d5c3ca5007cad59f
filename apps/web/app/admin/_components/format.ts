/** Plain-English labels and time formatting shared by the admin pages. */

export type Phase =
  "provisioning" | "ready" | "needs_admin" | "configured" | "authenticated" | "deleting";
export type Outcome = "running" | "succeeded" | "failed" | "needs_admin";
export type UpstreamState = "authenticated" | "unauthenticated" | "disconnected" | "unknown";

export const phases: readonly Phase[] = [
  "provisioning",
  "ready",
  "needs_admin",
  "configured",
  "authenticated",
  "deleting",
];
export const upstreamStates: readonly UpstreamState[] = [
  "authenticated",
  "unauthenticated",
  "disconnected",
  "unknown",
];
export const outcomes: readonly Outcome[] = ["running", "succeeded", "failed", "needs_admin"];

export const phaseLabel: Record<Phase, string> = {
  provisioning: "Provisioning",
  ready: "Ready (setting up)",
  needs_admin: "Needs admin",
  configured: "Configured",
  authenticated: "Authenticated",
  deleting: "Deleting",
};

export const upstreamLabel: Record<UpstreamState, string> = {
  authenticated: "Authenticated",
  unauthenticated: "Not logged in",
  disconnected: "Disconnected",
  unknown: "Unknown",
};

export const outcomeLabel: Record<Outcome, string> = {
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  needs_admin: "Needs admin",
};

/** The worker's setup steps, in order (packages/db setup_step). */
export const stepLabel: Record<string, string> = {
  read_secret: "Read database secret",
  wait_for_soju_user: "Wait for soju user",
  choose_password: "Choose password",
  ensure_ergo_account: "Ensure ergo account",
  verify_ergo_credentials: "Verify ergo credentials",
  apply_soju_network: "Apply soju network",
  annotate: "Annotate as configured",
  verify_upstream_login: "Verify upstream login",
  done: "Done",
};

export const actionLabel: Record<string, string> = {
  "bouncer.retry-setup": "Retried setup",
  "ergo_account.adopt": "Adopted ergo account",
};

const dateTime = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium" });
const shortDay = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "short",
  timeZone: "UTC",
});
const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

/** "3 May 2025, 14:05:09" in the viewer's time zone. */
export function formatDateTime(date: Date | string): string {
  return dateTime.format(typeof date === "string" ? new Date(date) : date);
}

/** "just now", "4 minutes ago", "2 days ago". */
export function formatRelative(date: Date | string, now = Date.now()): string {
  const ms = (typeof date === "string" ? new Date(date) : date).getTime() - now;
  const abs = Math.abs(ms);
  if (abs < 45_000) return "just now";
  if (abs < 90 * 60_000) return relative.format(Math.round(ms / 60_000), "minute");
  if (abs < 36 * 3_600_000) return relative.format(Math.round(ms / 3_600_000), "hour");
  return relative.format(Math.round(ms / 86_400_000), "day");
}

/** "850 ms", "4.2 s", "3 min 12 s". */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1_000);
  return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
}

/** A `YYYY-MM-DD` (UTC) day as "3 May". */
export function formatDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? day : shortDay.format(date);
}

/** `sojubouncer/<namespace>/<name>` → the bouncer's name, or null for other targets. */
export function bouncerOfTarget(target: string): string | null {
  const match = /^sojubouncer\/[^/]+\/([a-z0-9-]+)$/.exec(target);
  return match?.[1] ?? null;
}
