"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "~/trpc/react";
import { formatDateTime } from "./format";

/**
 * How many app passwords the bouncer's owner has and when a client last logged in with one.
 * Admins see counts only: no labels, no addresses, no way to create or reveal a password.
 */
export function AppPasswordStatsPanel({ name }: { name: string }) {
  const trpc = useTRPC();
  const stats = useQuery(trpc.admin.appPasswordStats.queryOptions({ name }));
  return (
    <section
      aria-labelledby="app-password-stats-heading"
      className="rounded-lg border border-slate-800 bg-slate-900/50 p-5"
      data-testid="admin-app-password-stats"
    >
      <h2 id="app-password-stats-heading" className="text-lg font-semibold text-white">
        IRC client logins
      </h2>
      {stats.isPending ? (
        <p className="mt-3 text-sm text-slate-400">Loading…</p>
      ) : stats.isError ? (
        <p role="alert" className="mt-3 text-sm text-red-300">
          Could not load the app password counts: {stats.error.message}
        </p>
      ) : !stats.data.known ? (
        <p className="mt-3 text-sm text-slate-400">
          The worker has not recorded this bouncer&apos;s owner yet.
        </p>
      ) : (
        <dl className="mt-3 grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2 text-sm">
          <dt className="text-slate-400">Owner&apos;s app passwords</dt>
          <dd className="text-slate-200">
            {stats.data.live} working
            {stats.data.kept > stats.data.live && ` (${stats.data.kept - stats.data.live} expired)`}
          </dd>
          <dt className="text-slate-400">Last client login</dt>
          <dd className="text-slate-200">
            {stats.data.lastUsedAt ? formatDateTime(stats.data.lastUsedAt) : "Never"}
          </dd>
        </dl>
      )}
    </section>
  );
}
