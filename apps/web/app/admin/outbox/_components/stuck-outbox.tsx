"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC, type RouterOutputs } from "~/trpc/react";
import { formatDuration } from "../../_components/format";
import { Badge, ErrorNotice, RelativeTime, focusRing, type AppError } from "../../_components/ui";

type Item = RouterOutputs["adminOutbox"]["stuck"]["items"][number];

const reasonLabel: Record<string, string> = {
  login: "sign-in",
  profile: "profile save",
  plan: "plan change",
  admin_retry: "admin retry",
};

/** Stuck Keycloak pushes, one card per user, each with its own Retry (audited). */
export function StuckOutbox() {
  const trpc = useTRPC();
  const stuck = useQuery(
    trpc.adminOutbox.stuck.queryOptions(undefined, { refetchInterval: 10_000 }),
  );
  // Page-level, so the confirmation outlives the card (a retried item may leave the list).
  const [retried, setRetried] = useState<string | null>(null);
  return (
    <div className="mt-8 space-y-4">
      <div role="status" className="text-sm empty:hidden" data-testid="outbox-status">
        {retried && (
          <p className="rounded-md border border-emerald-800 bg-emerald-950/40 p-3 text-emerald-200">
            Retry queued for <span className="font-mono">{retried}</span>: the worker pushes it
            within seconds. Recorded in the audit log.
          </p>
        )}
      </div>
      {stuck.isError && (
        <ErrorNotice
          error={stuck.error}
          prefix={stuck.data ? "Could not refresh the list:" : "Could not load the list:"}
        />
      )}
      {stuck.isPending ? (
        <p className="text-slate-400">Loading stuck pushes…</p>
      ) : stuck.data ? (
        <>
          <p className="text-sm text-slate-300" data-testid="outbox-summary">
            {stuck.data.pending === 1 ? "1 push" : `${stuck.data.pending} pushes`} waiting in all;{" "}
            {stuck.data.items.length === 1 ? "1 user" : `${stuck.data.items.length} users`} stuck.
          </p>
          {stuck.data.items.length === 0 ? (
            <p className="rounded-lg border border-slate-800 p-6 text-center text-sm text-slate-400">
              Nothing is stuck: every change reaches Keycloak within its retries.
            </p>
          ) : (
            <ul aria-label="Stuck Keycloak pushes" className="space-y-3">
              {stuck.data.items.map((item) => (
                <StuckItem key={item.userId} item={item} onRetried={setRetried} />
              ))}
            </ul>
          )}
        </>
      ) : null}
    </div>
  );
}

function StuckItem({ item, onRetried }: { item: Item; onRetried: (username: string) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const retry = useMutation(
    trpc.adminOutbox.retry.mutationOptions({
      onSuccess: async () => {
        onRetried(item.username);
        await queryClient.invalidateQueries(trpc.adminOutbox.pathFilter());
        await queryClient.invalidateQueries(trpc.admin.audit.pathFilter());
      },
    }),
  );
  const headingId = `outbox-${item.userId}`;
  return (
    <li
      aria-labelledby={headingId}
      className="rounded-lg border border-slate-800 bg-slate-900/50 p-4 text-sm"
      data-testid="outbox-item"
    >
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 id={headingId} className="font-mono text-base text-slate-100">
          {item.username}
        </h2>
        {item.held ? (
          <Badge tone="red">
            <span aria-hidden="true">!</span>Given up: not in Keycloak
          </Badge>
        ) : (
          <Badge tone="amber">Retrying</Badge>
        )}
      </div>
      <dl className="mt-3 grid gap-x-6 gap-y-1 sm:grid-cols-[max-content_1fr]">
        <dt className="text-slate-400">Changes</dt>
        <dd className="text-slate-200">
          {item.rows} ({item.reasons.map((r) => reasonLabel[r] ?? r).join(", ")})
        </dd>
        <dt className="text-slate-400">Failed attempts</dt>
        <dd className="text-slate-200">{item.attempts}</dd>
        <dt className="text-slate-400">Waiting for</dt>
        <dd className="text-slate-200">
          {formatDuration(item.ageS * 1000)} (since <RelativeTime date={item.oldestAt} />)
        </dd>
        <dt className="text-slate-400">Next attempt</dt>
        <dd className="text-slate-200">
          {item.nextAttemptAt ? <RelativeTime date={item.nextAttemptAt} /> : "none until a retry"}
        </dd>
        <dt className="text-slate-400">Last error</dt>
        <dd className="font-mono text-xs break-words text-slate-300">
          {item.lastError ?? "none yet"}
        </dd>
      </dl>
      <div className="mt-3 flex flex-wrap items-center gap-3">
        <button
          type="button"
          disabled={retry.isPending}
          onClick={() => retry.mutate({ userId: item.userId })}
          className={`rounded-md bg-emerald-500 px-4 py-2 text-sm font-semibold text-slate-950 hover:bg-emerald-400 disabled:cursor-wait disabled:opacity-50 ${focusRing}`}
          data-testid="outbox-retry"
        >
          {retry.isPending ? "Retrying…" : "Retry now"}
          <span className="sr-only"> for {item.username}</span>
        </button>
      </div>
      {retry.error && (
        <ErrorNotice
          error={retry.error as AppError}
          prefix="The retry did not go through:"
          className="mt-3"
        />
      )}
    </li>
  );
}
