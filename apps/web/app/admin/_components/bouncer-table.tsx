"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useSearchParams } from "next/navigation";
import { useEffect, useId, useState } from "react";
import { useTRPC, type RouterInputs, type RouterOutputs } from "~/trpc/react";
import {
  outcomeLabel,
  outcomes,
  phaseLabel,
  phases,
  stepLabel,
  upstreamLabel,
  upstreamStates,
  type Outcome,
  type Phase,
  type UpstreamState,
} from "./format";
import { Pagination } from "./pagination";
import {
  ErrorNotice,
  focusRing,
  inputClass,
  OutcomeBadge,
  PhaseBadge,
  RelativeTime,
  UpstreamBadge,
  YesNo,
} from "./ui";

type Row = RouterOutputs["admin"]["bouncers"]["rows"][number];
type Sort = NonNullable<RouterInputs["admin"]["bouncers"]["sort"]>;
type Direction = "asc" | "desc";

const PAGE_SIZE = 25;
const POLL_MS = 5_000;
const sorts: readonly Sort[] = ["name", "owner", "phase", "created", "lastAttempt"];
/** Newest first is the useful default for times; A→Z for everything else. */
const defaultDirection: Record<Sort, Direction> = {
  name: "asc",
  owner: "asc",
  phase: "asc",
  created: "desc",
  lastAttempt: "desc",
};

interface TableState {
  search: string;
  phase: Phase | "";
  upstream: UpstreamState | "none" | "";
  outcome: Outcome | "none" | "";
  sort: Sort;
  direction: Direction;
  page: number;
}

const initialState: TableState = {
  search: "",
  phase: "",
  upstream: "",
  outcome: "",
  sort: "name",
  direction: "asc",
  page: 1,
};

function oneOf<T extends string>(value: string | null, allowed: readonly T[]): T | undefined {
  return allowed.find((a) => a === value);
}

/** Table state lives in the URL too, so a filtered view can be shared and survives "Back". */
function stateFromParams(params: URLSearchParams): TableState {
  const sort = oneOf(params.get("sort"), sorts) ?? initialState.sort;
  const page = Number.parseInt(params.get("page") ?? "", 10);
  return {
    search: (params.get("q") ?? "").slice(0, 100),
    phase: oneOf(params.get("phase"), phases) ?? "",
    upstream: oneOf(params.get("upstream"), [...upstreamStates, "none"] as const) ?? "",
    outcome: oneOf(params.get("outcome"), [...outcomes, "none"] as const) ?? "",
    sort,
    direction: oneOf(params.get("dir"), ["asc", "desc"] as const) ?? defaultDirection[sort],
    page: Number.isFinite(page) && page >= 1 ? Math.min(page, 10_000) : 1,
  };
}

function paramsFromState(state: TableState): URLSearchParams {
  const params = new URLSearchParams();
  if (state.search) params.set("q", state.search);
  if (state.phase) params.set("phase", state.phase);
  if (state.upstream) params.set("upstream", state.upstream);
  if (state.outcome) params.set("outcome", state.outcome);
  if (state.sort !== initialState.sort) params.set("sort", state.sort);
  if (state.direction !== defaultDirection[state.sort]) params.set("dir", state.direction);
  if (state.page > 1) params.set("page", String(state.page));
  return params;
}

export function BouncerTable() {
  const trpc = useTRPC();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const [state, setState] = useState<TableState>(() =>
    stateFromParams(new URLSearchParams(searchParams.toString())),
  );
  const [searchDraft, setSearchDraft] = useState(state.search);
  const ids = {
    search: useId(),
    phase: useId(),
    upstream: useId(),
    outcome: useId(),
    heading: useId(),
  };

  // Apply the search box 300 ms after the last keystroke.
  useEffect(() => {
    const timer = setTimeout(() => {
      const search = searchDraft.trim();
      setState((s) => (s.search === search ? s : { ...s, search, page: 1 }));
    }, 300);
    return () => clearTimeout(timer);
  }, [searchDraft]);

  // Mirror the state into the URL without a server round trip.
  useEffect(() => {
    const query = paramsFromState(state).toString();
    const url = query ? `${pathname}?${query}` : pathname;
    if (url !== `${window.location.pathname}${window.location.search}`)
      window.history.replaceState(null, "", url);
  }, [state, pathname]);

  const list = useQuery(
    trpc.admin.bouncers.queryOptions(
      {
        search: state.search || undefined,
        phase: state.phase || undefined,
        upstream: state.upstream || undefined,
        outcome: state.outcome || undefined,
        sort: state.sort,
        direction: state.direction,
        page: state.page,
        pageSize: PAGE_SIZE,
      },
      { refetchInterval: POLL_MS, placeholderData: keepPreviousData },
    ),
  );

  // A bouncer may disappear while we look at the last page: step back to a page that exists.
  const total = list.data?.total;
  useEffect(() => {
    if (total === undefined) return;
    const lastPage = Math.max(1, Math.ceil(total / PAGE_SIZE));
    if (state.page > lastPage) setState((s) => ({ ...s, page: lastPage }));
  }, [total, state.page]);

  const update = (patch: Partial<TableState>) =>
    setState((s) => ({ ...s, ...patch, page: patch.page ?? 1 }));
  const sortBy = (sort: Sort) =>
    update(
      state.sort === sort
        ? { direction: state.direction === "asc" ? "desc" : "asc" }
        : { sort, direction: defaultDirection[sort] },
    );
  // Same query as the charts (shared cache): how many bouncers the worker has parked.
  const stats = useQuery(trpc.admin.stats.queryOptions({ days: 14 }, { refetchInterval: 30_000 }));
  const needsAdmin = stats.data?.byPhase.needs_admin ?? 0;
  const filtered = Boolean(state.search || state.phase || state.upstream || state.outcome);
  const clearFilters = () => {
    setSearchDraft("");
    update({ search: "", phase: "", upstream: "", outcome: "" });
  };

  const header = (label: string, sort?: Sort) => {
    if (!sort) {
      return (
        <th scope="col" className="px-3 py-3 font-medium">
          {label}
        </th>
      );
    }
    const active = state.sort === sort;
    return (
      <th
        scope="col"
        aria-sort={active ? (state.direction === "asc" ? "ascending" : "descending") : undefined}
        className="px-3 py-3 font-medium"
      >
        <button
          type="button"
          onClick={() => sortBy(sort)}
          className={`-mx-1 inline-flex items-center gap-1 rounded px-1 tracking-wide uppercase hover:text-white ${active ? "text-emerald-300" : ""} ${focusRing}`}
        >
          {label}
          <span aria-hidden="true" className={active ? "" : "text-slate-400"}>
            {active ? (state.direction === "asc" ? "▲" : "▼") : "↕"}
          </span>
        </button>
      </th>
    );
  };

  return (
    <section aria-labelledby={ids.heading} className="mt-10">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id={ids.heading} className="text-xl font-semibold text-white">
          All bouncers
        </h2>
        <p className="text-xs text-slate-400">
          Updates every 5 seconds
          {list.dataUpdatedAt > 0 && (
            <>
              {" "}
              · last checked{" "}
              <time dateTime={new Date(list.dataUpdatedAt).toISOString()}>
                {new Date(list.dataUpdatedAt).toLocaleTimeString("en-GB")}
              </time>
            </>
          )}
          {list.isFetching && <span className="ml-1 text-emerald-400">· refreshing…</span>}
        </p>
      </div>

      {needsAdmin > 0 && state.phase !== "needs_admin" && (
        <div
          className="mt-4 flex flex-wrap items-center justify-between gap-3 rounded-md border border-red-800 bg-red-950/40 p-3 text-sm text-red-100"
          data-testid="needs-admin-banner"
        >
          <p>
            <strong>
              {needsAdmin} bouncer{needsAdmin === 1 ? " needs" : "s need"} an admin.
            </strong>{" "}
            {needsAdmin === 1
              ? "Its setup stopped on a problem that retrying cannot fix; it will not retry by itself."
              : "Their setup stopped on a problem that retrying cannot fix; they will not retry by themselves."}
          </p>
          <button
            type="button"
            onClick={() => {
              setSearchDraft("");
              update({ search: "", phase: "needs_admin", upstream: "", outcome: "" });
            }}
            className={`rounded-md border border-red-700 px-3 py-1.5 font-medium text-red-100 hover:bg-red-900/60 ${focusRing}`}
          >
            Show {needsAdmin === 1 ? "it" : "them"}
          </button>
        </div>
      )}

      <form
        role="search"
        aria-label="Filter bouncers"
        className="mt-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-[minmax(0,2fr)_repeat(3,minmax(0,1fr))_auto] lg:items-end"
        onSubmit={(e) => {
          e.preventDefault();
          update({ search: searchDraft.trim() });
        }}
      >
        <div>
          <label htmlFor={ids.search} className="block text-sm text-slate-300">
            Search
          </label>
          <input
            id={ids.search}
            type="search"
            value={searchDraft}
            onChange={(e) => setSearchDraft(e.target.value)}
            placeholder="Bouncer name, username or email"
            maxLength={100}
            autoComplete="off"
            className={`mt-1 w-full ${inputClass}`}
            data-testid="admin-search"
          />
        </div>
        <FilterSelect
          id={ids.phase}
          testId="admin-filter-phase"
          label="Phase"
          value={state.phase}
          onChange={(v) => update({ phase: v as TableState["phase"] })}
          options={phases.map((p) => [p, phaseLabel[p]])}
        />
        <FilterSelect
          id={ids.upstream}
          testId="admin-filter-upstream"
          label="Upstream login"
          value={state.upstream}
          onChange={(v) => update({ upstream: v as TableState["upstream"] })}
          options={[
            ...upstreamStates.map((s) => [s, upstreamLabel[s]] as const),
            ["none", "Not checked yet"],
          ]}
        />
        <FilterSelect
          id={ids.outcome}
          testId="admin-filter-outcome"
          label="Last attempt"
          value={state.outcome}
          onChange={(v) => update({ outcome: v as TableState["outcome"] })}
          options={[
            ...outcomes.map((o) => [o, outcomeLabel[o]] as const),
            ["none", "No attempts yet"],
          ]}
        />
        <button
          type="button"
          onClick={clearFilters}
          disabled={!filtered && !searchDraft}
          className={`rounded-md border border-transparent px-3 py-2 text-sm text-slate-300 hover:bg-slate-800 disabled:opacity-40 disabled:hover:bg-transparent ${focusRing}`}
        >
          Clear filters
        </button>
      </form>

      {list.isError && (
        <ErrorNotice
          error={list.error}
          prefix={list.data ? "Could not refresh the list:" : "Could not load bouncers:"}
          className="mt-4"
        />
      )}

      {/* Narrow screens: one card per bouncer (the same facts, no sideways scrolling). */}
      <div className="mt-4 md:hidden">
        {list.isPending ? (
          <p className="rounded-lg border border-slate-800 p-6 text-center text-slate-400">
            Loading bouncers…
          </p>
        ) : !list.data ? (
          <p className="rounded-lg border border-slate-800 p-6 text-center text-slate-400">
            The bouncer list is not available right now.
          </p>
        ) : list.data.rows.length === 0 ? (
          <p className="rounded-lg border border-slate-800 p-6 text-center text-slate-400">
            {filtered
              ? "No bouncers match these filters."
              : "There are no bouncers yet. They appear here as soon as someone creates one."}
          </p>
        ) : (
          <>
            <SortSelect
              sort={state.sort}
              direction={state.direction}
              onChange={(sort, direction) => update({ sort, direction })}
            />
            <ul className="mt-3 space-y-3" aria-label="All bouncers">
              {list.data.rows.map((row) => (
                <BouncerCard key={row.name} row={row} />
              ))}
            </ul>
          </>
        )}
      </div>

      <div
        role="region"
        aria-labelledby={ids.heading}
        tabIndex={0}
        className={`relative mt-4 hidden overflow-x-auto rounded-lg border border-slate-800 md:block ${focusRing}`}
      >
        <table className="w-full min-w-[68rem] text-left text-sm">
          <caption className="sr-only">
            All bouncers. Column headers with buttons sort the table.
          </caption>
          <thead className="border-b border-slate-800 bg-slate-900/70 text-xs tracking-wide text-slate-400 uppercase">
            <tr>
              {header("Name", "name")}
              {header("Owner", "owner")}
              {header("Phase", "phase")}
              {header("Ready")}
              {header("Configured")}
              {header("Upstream login")}
              {header("Last attempt", "lastAttempt")}
              {header("Created", "created")}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-800/80">
            {list.isPending ? (
              <MessageRow>Loading bouncers…</MessageRow>
            ) : !list.data ? (
              <MessageRow>The bouncer list is not available right now.</MessageRow>
            ) : list.data.rows.length === 0 ? (
              <MessageRow>
                {filtered ? (
                  <>
                    No bouncers match these filters.{" "}
                    <button
                      type="button"
                      onClick={clearFilters}
                      className={`text-emerald-300 underline hover:text-emerald-200 ${focusRing}`}
                    >
                      Clear filters
                    </button>
                  </>
                ) : (
                  "There are no bouncers yet. They appear here as soon as someone creates one."
                )}
              </MessageRow>
            ) : (
              list.data.rows.map((row) => <BouncerRow key={row.name} row={row} />)
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
            onPage={(page) => update({ page })}
            label="Bouncer list"
          />
        </div>
      )}
    </section>
  );
}

function FilterSelect({
  id,
  testId,
  label,
  value,
  onChange,
  options,
}: {
  id: string;
  testId: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: ReadonlyArray<readonly [string, string]>;
}) {
  return (
    <div>
      <label htmlFor={id} className="block text-sm text-slate-300">
        {label}
      </label>
      <select
        id={id}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        className={`mt-1 w-full ${inputClass}`}
        data-testid={testId}
      >
        <option value="">All</option>
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </div>
  );
}

const sortLabel: Record<Sort, string> = {
  name: "Name",
  owner: "Owner",
  phase: "Phase",
  created: "Created",
  lastAttempt: "Last attempt",
};

/** On narrow screens there are no column headers to click: sorting is a select. */
function SortSelect({
  sort,
  direction,
  onChange,
}: {
  sort: Sort;
  direction: Direction;
  onChange: (sort: Sort, direction: Direction) => void;
}) {
  const id = useId();
  const options = sorts.flatMap((s) =>
    (["asc", "desc"] as const).map((d) => ({
      value: `${s}:${d}`,
      label: `${sortLabel[s]}, ${
        s === "created" || s === "lastAttempt"
          ? d === "desc"
            ? "newest first"
            : "oldest first"
          : d === "asc"
            ? "A to Z"
            : "Z to A"
      }`,
    })),
  );
  return (
    <div className="flex items-center gap-2 text-sm">
      <label htmlFor={id} className="text-slate-300">
        Sort by
      </label>
      <select
        id={id}
        value={`${sort}:${direction}`}
        onChange={(e) => {
          const [s, d] = e.target.value.split(":") as [Sort, Direction];
          onChange(s, d);
        }}
        className={`min-w-0 flex-1 ${inputClass}`}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

/** One bouncer as a card: what a table row shows, stacked. */
function BouncerCard({ row }: { row: Row }) {
  const attempt = row.lastAttempt;
  return (
    <li
      className="rounded-lg border border-slate-800 bg-slate-900/50 p-4 text-sm"
      data-testid={`admin-bouncer-card-${row.name}`}
    >
      <div className="flex flex-wrap items-center justify-between gap-2">
        <Link
          href={`/admin/bouncers/${row.name}`}
          className={`rounded font-mono text-base font-semibold break-all text-emerald-300 hover:text-emerald-200 hover:underline ${focusRing}`}
        >
          {row.name}
        </Link>
        <PhaseBadge phase={row.phase} />
      </div>
      {row.phase === "needs_admin" ? (
        <p className="mt-2 line-clamp-3 text-xs break-words text-red-200">
          {attempt?.error ?? "The worker parked this bouncer without a reason."}
        </p>
      ) : (
        row.problem && (
          <p className="mt-2 line-clamp-3 text-xs break-words text-amber-200/90">{row.problem}</p>
        )
      )}
      <dl className="mt-3 grid grid-cols-[max-content_minmax(0,1fr)] gap-x-4 gap-y-1.5">
        <dt className="text-slate-400">Owner</dt>
        <dd className="min-w-0 break-words">
          {row.owner ? (
            <>
              <span className="font-mono text-slate-200">{row.owner.username}</span>
              {row.owner.email && (
                <span className="block text-xs break-all text-slate-400">{row.owner.email}</span>
              )}
            </>
          ) : (
            <>
              <span className="font-mono text-slate-300">{row.username}</span>
              <span className="block text-xs text-amber-300/80">No matching account</span>
            </>
          )}
        </dd>
        <dt className="text-slate-400">Plan</dt>
        <dd className="text-slate-200">{row.plan}</dd>
        <dt className="text-slate-400">Ready</dt>
        <dd>
          <YesNo value={row.ready} />
        </dd>
        <dt className="text-slate-400">Configured</dt>
        <dd>
          <YesNo value={row.configured} />
        </dd>
        <dt className="text-slate-400">Upstream login</dt>
        <dd>
          <UpstreamBadge state={row.upstream?.state ?? null} />
          {row.upstream && (
            <span className="mt-0.5 block text-xs text-slate-400">
              {row.upstream.account && (
                <>
                  as <span className="font-mono text-slate-300">{row.upstream.account}</span>,{" "}
                </>
              )}
              checked <RelativeTime date={row.upstream.checkedAt} />
            </span>
          )}
        </dd>
        <dt className="text-slate-400">Last attempt</dt>
        <dd>
          {attempt ? (
            <>
              <span className="inline-flex flex-wrap items-center gap-2">
                <OutcomeBadge outcome={attempt.outcome} />
                <span className="text-xs text-slate-400">
                  #{attempt.attemptNo} · {stepLabel[attempt.step] ?? attempt.step}
                </span>
              </span>
              {attempt.error && row.phase !== "needs_admin" && (
                <span className="mt-1 line-clamp-2 block font-mono text-xs break-words text-red-300">
                  <span className="sr-only">Error: </span>
                  {attempt.error}
                </span>
              )}
              <span className="block text-xs text-slate-400">
                <RelativeTime date={attempt.startedAt} />
              </span>
            </>
          ) : (
            <span className="text-slate-400">No attempts yet</span>
          )}
        </dd>
        <dt className="text-slate-400">Created</dt>
        <dd className="text-slate-300">
          {row.createdAt ? <RelativeTime date={new Date(row.createdAt)} /> : "—"}
        </dd>
      </dl>
    </li>
  );
}

function MessageRow({ children }: { children: React.ReactNode }) {
  return (
    <tr>
      <td colSpan={8} className="px-3 py-10 text-center text-slate-400">
        {children}
      </td>
    </tr>
  );
}

function BouncerRow({ row }: { row: Row }) {
  const attempt = row.lastAttempt;
  return (
    <tr className="align-top hover:bg-slate-900/50" data-testid={`admin-bouncer-row-${row.name}`}>
      <th scope="row" className="px-3 py-3 text-left font-normal">
        <Link
          href={`/admin/bouncers/${row.name}`}
          className={`rounded font-mono font-semibold text-emerald-300 hover:text-emerald-200 hover:underline ${focusRing}`}
        >
          {row.name}
        </Link>
        <div className="mt-0.5 text-xs whitespace-nowrap text-slate-400">{row.plan} plan</div>
      </th>
      <td className="px-3 py-3">
        {row.owner ? (
          <>
            <div className="font-mono text-slate-200">{row.owner.username}</div>
            {row.owner.email && (
              <div className="text-xs whitespace-nowrap text-slate-400">{row.owner.email}</div>
            )}
          </>
        ) : (
          <>
            <div className="font-mono text-slate-300">{row.username}</div>
            <div className="text-xs text-amber-300/80">No matching account</div>
          </>
        )}
      </td>
      <td className="px-3 py-3">
        <PhaseBadge phase={row.phase} />
        {row.phase === "needs_admin" ? (
          // The worker's reason, for admins (users see a plain "waiting for staff" instead).
          <p
            className="mt-1 line-clamp-3 max-w-56 text-xs text-red-200"
            title={attempt?.error ?? undefined}
            data-testid="needs-admin-reason"
          >
            {attempt?.error ?? "The worker parked this bouncer without a reason."}
          </p>
        ) : (
          row.problem && (
            <p className="mt-1 line-clamp-3 max-w-56 text-xs text-amber-200/90">{row.problem}</p>
          )
        )}
      </td>
      <td className="px-3 py-3">
        <YesNo value={row.ready} />
      </td>
      <td className="px-3 py-3">
        <YesNo value={row.configured} />
      </td>
      <td className="px-3 py-3">
        <UpstreamBadge state={row.upstream?.state ?? null} />
        {row.upstream && (
          <div className="mt-1 space-y-0.5 text-xs text-slate-400">
            {row.upstream.account && (
              <div>
                as <span className="font-mono text-slate-300">{row.upstream.account}</span>
              </div>
            )}
            <div>
              checked <RelativeTime date={row.upstream.checkedAt} />
            </div>
          </div>
        )}
      </td>
      <td className="px-3 py-3">
        {attempt ? (
          <div className="space-y-1">
            <div className="flex items-center gap-2">
              <OutcomeBadge outcome={attempt.outcome} />
              <span className="text-xs text-slate-400">#{attempt.attemptNo}</span>
            </div>
            <div className="text-xs text-slate-300">
              <span className="sr-only">Step reached: </span>
              {stepLabel[attempt.step] ?? attempt.step}
            </div>
            {attempt.error && row.phase !== "needs_admin" && (
              <p
                className="line-clamp-2 max-w-64 font-mono text-xs break-words text-red-300"
                title={attempt.error}
              >
                <span className="sr-only">Error: </span>
                {attempt.error}
              </p>
            )}
            <div className="text-xs text-slate-400">
              <RelativeTime date={attempt.startedAt} />
            </div>
          </div>
        ) : (
          <span className="text-slate-400">No attempts yet</span>
        )}
      </td>
      <td className="px-3 py-3 whitespace-nowrap text-slate-400">
        {row.createdAt ? <RelativeTime date={new Date(row.createdAt)} /> : "—"}
      </td>
    </tr>
  );
}
