"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "~/trpc/react";
import { ErrorNotice, focusRing, type AppError } from "../../_components/ui";

/** "Retry now" on a pending account deletion: due at once, the worker woken, audited. */
export function RetryDeletion({ userId, username }: { userId: string; username: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [done, setDone] = useState(false);
  const retry = useMutation(
    trpc.adminUsers.retryDeletion.mutationOptions({
      onSuccess: async () => {
        setDone(true);
        await queryClient.invalidateQueries(trpc.adminUsers.pathFilter());
        await queryClient.invalidateQueries(trpc.admin.audit.pathFilter());
      },
    }),
  );
  return (
    <div className="mt-4">
      <button
        type="button"
        disabled={retry.isPending}
        onClick={() => {
          setDone(false);
          retry.mutate({ userId });
        }}
        className={`rounded-md bg-emerald-500 px-4 py-2 text-sm font-semibold text-slate-950 hover:bg-emerald-400 disabled:cursor-wait disabled:opacity-50 ${focusRing}`}
        data-testid="deletion-retry"
      >
        {retry.isPending ? "Retrying…" : "Retry now"}
        <span className="sr-only"> the deletion of {username}</span>
      </button>
      <div role="status" className="mt-3 text-sm empty:hidden" data-testid="deletion-status">
        {done && (
          <p className="rounded-md border border-emerald-800 bg-emerald-950/40 p-3 text-emerald-200">
            Retry queued: the worker resumes the deletion of{" "}
            <span className="font-mono">{username}</span> within seconds. Recorded in the audit log.
          </p>
        )}
      </div>
      {retry.error && (
        <ErrorNotice
          error={retry.error as AppError}
          prefix="The retry did not go through:"
          className="mt-3"
        />
      )}
    </div>
  );
}
