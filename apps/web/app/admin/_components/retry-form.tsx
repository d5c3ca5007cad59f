"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useRef, useState } from "react";
import { useTRPC } from "~/trpc/react";
import { MIN_REASON, REASON_TOO_SHORT, ReasonField } from "./reason-field";
import { ErrorNotice, focusRing } from "./ui";

/**
 * Retry setup: the server removes `irc.now/upstream-configured` so the worker sets the bouncer
 * up again, and records who, when and why in the audit log.
 */
export function RetryForm({ name }: { name: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const ids = { heading: useId() };
  const textarea = useRef<HTMLTextAreaElement>(null);
  const [reason, setReason] = useState("");
  const [localError, setLocalError] = useState<string | null>(null);
  const [succeeded, setSucceeded] = useState(false);

  const retry = useMutation(
    trpc.admin.retry.mutationOptions({
      onSuccess: async () => {
        setReason("");
        setSucceeded(true);
        // The bouncer, the list, the charts and the audit log all change.
        await queryClient.invalidateQueries(trpc.admin.pathFilter());
      },
      onError: (error) => {
        if (error.data?.fieldErrors?.reason) textarea.current?.focus();
      },
    }),
  );

  const fieldError = localError ?? retry.error?.data?.fieldErrors?.reason ?? null;
  const otherError = retry.error && !retry.error.data?.fieldErrors?.reason ? retry.error : null;

  return (
    <section
      aria-labelledby={ids.heading}
      className="rounded-lg border border-slate-800 bg-slate-900/50 p-5"
    >
      <h2 id={ids.heading} className="text-lg font-semibold text-white">
        Retry setup
      </h2>
      <p className="mt-1 text-sm text-slate-400">
        Clears the <code className="font-mono text-slate-300">irc.now/upstream-configured</code>{" "}
        annotation so the worker sets up the irc.now network again. Your name and reason go into the
        audit log.
      </p>
      <form
        noValidate
        className="mt-4 space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          setSucceeded(false);
          const trimmed = reason.trim();
          if (trimmed.length < MIN_REASON) {
            setLocalError(REASON_TOO_SHORT);
            retry.reset();
            textarea.current?.focus();
            return;
          }
          setLocalError(null);
          retry.mutate({ name, reason: trimmed });
        }}
      >
        <ReasonField
          textarea={textarea}
          value={reason}
          onChange={setReason}
          onLongEnough={() => setLocalError(null)}
          error={fieldError}
          placeholder="e.g. ergo was down during the first setup"
          testId="retry-reason"
          errorTestId="retry-error"
        />
        <button
          type="submit"
          disabled={retry.isPending}
          className={`rounded-md bg-emerald-500 px-4 py-2 text-sm font-semibold text-slate-950 hover:bg-emerald-400 disabled:cursor-wait disabled:opacity-50 ${focusRing}`}
          data-testid="retry-submit"
        >
          {retry.isPending ? "Retrying…" : "Retry setup"}
        </button>
      </form>
      {otherError && (
        <ErrorNotice error={otherError} prefix="The retry did not go through:" className="mt-3" />
      )}
      <div role="status" className="mt-3 text-sm empty:hidden" data-testid="retry-status">
        {succeeded && (
          <p className="rounded-md border border-emerald-800 bg-emerald-950/40 p-3 text-emerald-200">
            Setup will run again for <span className="font-mono">{name}</span>. The new attempt
            shows up in the timeline below within a few seconds.
          </p>
        )}
      </div>
    </section>
  );
}
