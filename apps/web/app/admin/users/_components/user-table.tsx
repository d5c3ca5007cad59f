"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useSearchParams } from "next/navigation";
import { useEffect, useId, useState } from "react";
import { useTRPC, type RouterOutputs } from "~/trpc/react";
import { Pagination } from "../../_components/pagination";
import { Badge, ErrorNotice, focusRing, inputClass, RelativeTime } from "../../_components/ui";
import { deletionStepLabel, subscriptionText, userHref } from "./labels";

type Row = RouterOutputs["adminUsers"]["list"]["rows"][number];

const PAGE_SIZE = 25;

/** Search (username or email prefix) and page live in the URL, so a view can be shared. */
function fromParams(params: URLSearchParams) {
  const page = Number.parseInt(params.get("page") ?? "", 10);
  return {
    search: (params.get("q") ?? "").slice(0, 100),
    page: Number.isFinite(page) && page >= 1 ? Math.min(page, 10_000) : 1,
  };
}

export function UserTable() {
  const trpc = useTRPC();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const [state, setState] = useState(() =>
    fromParams(new URLSearchParams(searchParams.toString())),
  );
  const [draft, setDraft] = useState(state.search);
  const ids = { search: useId(), heading: useId(), hint: useId() };

  // Apply the search box 300 ms after the last keystroke.
  useEffect(() => {
    const timer = setTimeout(() => {
      const search = draft.trim();
      setState((s) => (s.search === search ? s : { search, page: 1 }));
    }, 300);
    return () => clearTimeout(timer);
  }, [draft]);

  useEffect(() => {
    const params = new URLSearchParams();
    if (state.search) params.set("q", state.search);
    if (state.page > 1) params.set("page", String(state.page));
    const query = params.toString();
    const url = query ? `${pathname}?${query}` : pathname;
    if (url !== `${window.location.pathname}${window.location.search}`)
      window.history.replaceState(null, "", url);
  }, [state, pathname]);

  const list = useQuery(
    trpc.adminUsers.list.queryOptions(
      { search: state.search || undefined, page: state.page, pageSize: PAGE_SIZE },
      { refetchInterval: 15_000, placeholderData: keepPreviousData },
    ),
  );

  return (
    <section aria-labelledby={ids.heading} className="mt-8">
      <h2 id={ids.heading} className="sr-only">
        All users
      </h2>
      <form
        role="search"
        aria-label="Find users"
        className="flex flex-wrap items-end gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          setState({ search: draft.trim(), page: 1 });
        }}
      >
        <div className="w-full max-w-md">
          <label htmlFor={ids.search} className="block text-sm text-slate-300">
            Search
          </label>
          <input
            id={ids.search}
            type="search"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            placeholder="Start of a username or email"
            aria-describedby={ids.hint}
            maxLength={100}
            autoComplete="off"
            className={`mt-1 w-full ${inputClass}`}
            data-testid="user-search"
          />
          <p id={ids.hint} className="mt-1 text-xs text-slate-400">
            Matches usernames and email addresses that start with what you type.
          </p>
        </div>
      </form>

      {list.isError && (
        <ErrorNotice
          error={list.error}
          prefix={list.data ? "Could not refresh the list:" : "Could not load users:"}
          className="mt-4"
        />
      )}

      <div
        role="region"
        aria-labelledby={ids.heading}
        tabIndex={0}
        className={`relative mt-4 overflow-x-auto rounded-lg border border-slate-800 ${focusRing}`}
      >
        <table className="w-full min-w-[60rem] text-left text-sm">
          <caption className="sr-only">
            All users{state.search ? ` whose username or email starts with “${state.search}”` : ""},
            by username.
          </caption>
          <thead className="border-b border-slate-800 bg-slate-900/70 text-xs tracking-wide text-slate-400 uppercase">
            <tr>
              {["Username", "Email", "Plan", "Subscription", "Bouncers", "Last sign-in"].map(
                (label) => (
                  <th key={label} scope="col" className="px-3 py-3 font-medium">
                    {label}
                  </th>
                ),
              )}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-800/80">
            {list.isPending ? (
              <MessageRow>Loading users…</MessageRow>
            ) : !list.data ? (
              <MessageRow>The user list is not available right now.</MessageRow>
            ) : list.data.rows.length === 0 ? (
              <MessageRow>
                {state.search
                  ? `No username or email starts with “${state.search}”.`
                  : "There are no users yet."}
              </MessageRow>
            ) : (
              list.data.rows.map((row) => <UserRow key={row.id} row={row} />)
            )}
          </tbody>
        </table>
      </div>

      {list.data && list.data.total > 0 && (
        <div className="mt-4">
          <Pagination
            page={state.page}
            pageSize={PAGE_SIZE}
            total={list.data.total}
            onPage={(page) => setState((s) => ({ ...s, page }))}
            label="User list"
          />
        </div>
      )}
    </section>
  );
}

function MessageRow({ children }: { children: React.ReactNode }) {
  return (
    <tr>
      <td colSpan={6} className="px-3 py-10 text-center text-slate-400">
        {children}
      </td>
    </tr>
  );
}

function UserRow({ row }: { row: Row }) {
  return (
    <tr className="align-top hover:bg-slate-900/50" data-testid={`admin-user-row-${row.username}`}>
      <th scope="row" className="px-3 py-3 text-left font-normal">
        <Link
          href={userHref(row.username)}
          className={`rounded font-mono font-semibold text-emerald-300 hover:text-emerald-200 hover:underline ${focusRing}`}
        >
          {row.username}
        </Link>
        {row.pendingDeletion && (
          <div className="mt-1">
            <Badge tone="red">
              <span aria-hidden="true">!</span>Deletion pending
            </Badge>
            <div className="mt-0.5 text-xs text-slate-400">
              {deletionStepLabel[row.pendingDeletion.step] ?? row.pendingDeletion.step}
            </div>
          </div>
        )}
      </th>
      <td className="px-3 py-3 break-all text-slate-300">
        {row.email ?? <span className="text-slate-400">none</span>}
      </td>
      <td className="px-3 py-3">
        <Badge tone={row.plan === "pro" ? "emerald" : "slate"}>{row.plan}</Badge>
      </td>
      <td className="px-3 py-3 text-slate-300">{subscriptionText(row.subscriptionStatus)}</td>
      <td className="px-3 py-3 whitespace-nowrap text-slate-300">
        {row.bouncers}
        {row.suspended > 0 && (
          <span className="ml-2 text-amber-200">({row.suspended} suspended)</span>
        )}
      </td>
      <td className="px-3 py-3 whitespace-nowrap text-slate-400">
        {row.lastLoginAt ? <RelativeTime date={row.lastLoginAt} /> : "never"}
      </td>
    </tr>
  );
}
