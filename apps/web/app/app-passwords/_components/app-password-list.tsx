"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useTRPC, type RouterOutputs } from "~/trpc/react";
import { NewAppPassword } from "../../_components/new-app-password";

type AppPassword = RouterOutputs["appPasswords"]["mine"]["passwords"][number];

const focusRing =
  "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400";

const when = (d: Date | null, never = "Never") =>
  d ? d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : never;

/** The user's app passwords: create one, see where each was last used, revoke one by one. */
export function AppPasswordList() {
  const trpc = useTRPC();
  const mine = useQuery(trpc.appPasswords.mine.queryOptions());
  const bouncers = useQuery(trpc.bouncer.mine.queryOptions());
  // After a revoke the row (and its button) is gone: focus moves to the confirmation.
  const [notice, setNotice] = useState<{ text: string; seq: number } | null>(null);
  const noticeRef = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (notice) noticeRef.current?.focus();
  }, [notice]);

  return (
    <div className="mt-8 space-y-8">
      <div role="status" className="empty:hidden" data-testid="app-passwords-notice">
        {notice && (
          <p
            key={notice.seq}
            ref={noticeRef}
            tabIndex={-1}
            className={`rounded-md border border-emerald-800 bg-emerald-950/40 p-3 text-sm text-emerald-200 ${focusRing}`}
          >
            {notice.text}
          </p>
        )}
      </div>
      <section
        aria-labelledby="new-app-password-heading"
        className="rounded-lg border border-dashed border-slate-700 p-4 sm:p-6"
      >
        <h2 id="new-app-password-heading" className="text-lg font-semibold text-white">
          New app password
        </h2>
        <NewAppPassword
          idPrefix="page-app-password"
          bouncers={bouncers.data?.bouncers.map((b) => b.name) ?? []}
        />
      </section>
      <section aria-labelledby="your-app-passwords-heading">
        <h2 id="your-app-passwords-heading" className="text-lg font-semibold text-white">
          Your app passwords
          {mine.data && (
            <span className="ml-2 text-sm font-normal text-slate-400">
              ({mine.data.passwords.length} of at most {mine.data.max})
            </span>
          )}
        </h2>
        {mine.isPending ? (
          <p className="mt-3 text-slate-400">Loading…</p>
        ) : mine.isError ? (
          <p role="alert" className="mt-3 text-red-300">
            {mine.error.data
              ? mine.error.message
              : "Could not reach irc.now. Check your connection and try again."}
          </p>
        ) : mine.data.passwords.length === 0 ? (
          <p className="mt-3 text-slate-300">
            You have no app passwords. Create one above, or from a bouncer on your dashboard.
          </p>
        ) : (
          <div className="mt-3 overflow-x-auto">
            <table className="w-full text-left text-sm" data-testid="app-password-table">
              <caption className="sr-only">
                Your app passwords, with where and when each was last used
              </caption>
              <thead className="text-slate-400">
                <tr>
                  <th scope="col" className="py-2 pr-4 font-medium">
                    Label
                  </th>
                  <th scope="col" className="py-2 pr-4 font-medium">
                    Works for
                  </th>
                  <th scope="col" className="py-2 pr-4 font-medium">
                    Created
                  </th>
                  <th scope="col" className="py-2 pr-4 font-medium">
                    Last used
                  </th>
                  <th scope="col" className="py-2 pr-4 font-medium">
                    From
                  </th>
                  <th scope="col" className="py-2 pr-4 font-medium">
                    Expires
                  </th>
                  <th scope="col" className="py-2 font-medium">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-800 text-slate-200">
                {mine.data.passwords.map((p) => (
                  <Row
                    key={p.id}
                    password={p}
                    onRevoked={(label) =>
                      setNotice((n) => ({
                        text: `“${label}” was revoked. Clients using it can no longer log in.`,
                        seq: (n?.seq ?? 0) + 1,
                      }))
                    }
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

function Row({
  password: p,
  onRevoked,
}: {
  password: AppPassword;
  onRevoked: (label: string) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const revoke = useMutation(
    trpc.appPasswords.revoke.mutationOptions({
      onSuccess: async ({ revoked }) => {
        onRevoked(revoked);
        await queryClient.invalidateQueries({ queryKey: trpc.appPasswords.mine.queryKey() });
      },
    }),
  );
  return (
    <tr data-testid="app-password-row">
      <th scope="row" className="py-2 pr-4 font-medium break-all">
        {p.label}
      </th>
      <td className="py-2 pr-4 font-mono">{p.bouncer ?? "all bouncers"}</td>
      <td className="py-2 pr-4">{when(p.createdAt)}</td>
      <td className="py-2 pr-4">{when(p.lastUsedAt)}</td>
      <td className="py-2 pr-4 font-mono">{p.lastUsedFrom ?? "—"}</td>
      <td className="py-2 pr-4">
        {p.expired ? <strong className="text-amber-300">Expired</strong> : when(p.expiresAt)}
      </td>
      <td className="py-2">
        <button
          type="button"
          disabled={revoke.isPending}
          onClick={() => revoke.mutate({ id: p.id })}
          className={`rounded-md border border-red-900 px-3 py-1 text-sm whitespace-nowrap text-red-300 hover:bg-red-950 disabled:opacity-50 ${focusRing}`}
        >
          Revoke <span className="sr-only">“{p.label}”</span>
        </button>
        {revoke.error && (
          <p role="alert" className="mt-1 text-xs text-red-300">
            {revoke.error.data
              ? revoke.error.message
              : "Could not reach irc.now. Check your connection and try again."}
          </p>
        )}
      </td>
    </tr>
  );
}
