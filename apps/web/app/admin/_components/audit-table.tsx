import Link from "next/link";
import type { RouterOutputs } from "~/trpc/react";
import { actionLabel, bouncerOfTarget, formatDateTime } from "./format";
import { focusRing } from "./ui";

export type AuditEntry = RouterOutputs["admin"]["audit"]["rows"][number] & {
  /** Set on a bouncer's page: the entry is about an earlier bouncer that had the same name. */
  previousBouncer?: boolean;
};

/** Detail keys kept for machines (ids), not shown in the table. */
const hiddenDetails = new Set(["bouncerUid", "ownerUserId"]);

/** Audit entries as a table: time, admin, action, target (optional), reason. */
export function AuditTable({
  rows,
  caption,
  showTarget = true,
  empty,
}: {
  rows: AuditEntry[];
  caption: string;
  showTarget?: boolean;
  empty: string;
}) {
  const columns = showTarget ? 5 : 4;
  return (
    <>
      {/* Narrow screens: one card per entry, nothing to scroll sideways. */}
      <div className="md:hidden">
        {rows.length === 0 ? (
          <p className="rounded-lg border border-slate-800 p-6 text-center text-sm text-slate-400">
            {empty}
          </p>
        ) : (
          <ul aria-label={caption} className="space-y-3">
            {rows.map((entry) => (
              <AuditCard key={entry.id} entry={entry} showTarget={showTarget} />
            ))}
          </ul>
        )}
      </div>
      <AuditTableWide
        rows={rows}
        caption={caption}
        showTarget={showTarget}
        empty={empty}
        columns={columns}
      />
    </>
  );
}

function AuditTableWide({
  rows,
  caption,
  showTarget,
  empty,
  columns,
}: {
  rows: AuditEntry[];
  caption: string;
  showTarget: boolean;
  empty: string;
  columns: number;
}) {
  return (
    <div
      role="region"
      aria-label={caption}
      tabIndex={0}
      className={`relative hidden overflow-x-auto rounded-lg border border-slate-800 md:block ${focusRing}`}
    >
      <table className="w-full min-w-[48rem] text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead className="border-b border-slate-800 bg-slate-900/70 text-xs tracking-wide text-slate-400 uppercase">
          <tr>
            <th scope="col" className="px-3 py-3 font-medium">
              Time
            </th>
            <th scope="col" className="px-3 py-3 font-medium">
              Admin
            </th>
            <th scope="col" className="px-3 py-3 font-medium">
              Action
            </th>
            {showTarget && (
              <th scope="col" className="px-3 py-3 font-medium">
                Target
              </th>
            )}
            <th scope="col" className="px-3 py-3 font-medium">
              Reason
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-800/80">
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns} className="px-3 py-10 text-center text-slate-400">
                {empty}
              </td>
            </tr>
          ) : (
            rows.map((entry) => <AuditRow key={entry.id} entry={entry} showTarget={showTarget} />)
          )}
        </tbody>
      </table>
    </div>
  );
}

function shownDetails(entry: AuditEntry): Array<[string, unknown]> {
  return Object.entries(entry.details).filter(
    ([k, v]) => !hiddenDetails.has(k) && ["string", "number", "boolean"].includes(typeof v),
  );
}

function AuditCard({ entry, showTarget }: { entry: AuditEntry; showTarget: boolean }) {
  const bouncer = bouncerOfTarget(entry.target);
  const details = shownDetails(entry);
  return (
    <li
      className="rounded-lg border border-slate-800 bg-slate-900/50 p-4 text-sm"
      data-testid="audit-card"
    >
      <div className="flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1">
        <span className="font-medium text-slate-100">
          {actionLabel[entry.action] ?? entry.action}
        </span>
        <time dateTime={entry.createdAt.toISOString()} className="text-xs text-slate-400">
          {formatDateTime(entry.createdAt)}
        </time>
      </div>
      {entry.previousBouncer && (
        <p className="mt-0.5 text-xs font-medium text-amber-200">
          About a previous bouncer with this name
        </p>
      )}
      <p className="mt-1 text-slate-300">
        by <span className="font-mono text-slate-200">{entry.actorUsername}</span>
        {showTarget && bouncer && (
          <>
            {" "}
            on{" "}
            <Link
              href={`/admin/bouncers/${bouncer}`}
              className={`rounded font-mono text-emerald-300 hover:text-emerald-200 hover:underline ${focusRing}`}
            >
              {bouncer}
            </Link>
          </>
        )}
      </p>
      {showTarget && !bouncer && (
        <p className="mt-1 font-mono text-xs break-all text-slate-400">{entry.target}</p>
      )}
      <p className="mt-2 break-words whitespace-pre-wrap text-slate-300">
        <span className="sr-only">Reason: </span>
        {entry.reason ?? <span className="text-slate-400">No reason given</span>}
      </p>
      {details.length > 0 && (
        <dl className="mt-2 text-xs break-words text-slate-400">
          {details.map(([k, v]) => (
            <div key={k}>
              <dt className="inline">{humanKey(k)}: </dt>
              <dd className="inline">{typeof v === "boolean" ? (v ? "yes" : "no") : String(v)}</dd>
            </div>
          ))}
        </dl>
      )}
    </li>
  );
}

function AuditRow({ entry, showTarget }: { entry: AuditEntry; showTarget: boolean }) {
  const bouncer = bouncerOfTarget(entry.target);
  const details = shownDetails(entry);
  return (
    <tr className="align-top" data-testid="audit-row">
      <td className="px-3 py-3 whitespace-nowrap text-slate-300">
        <time dateTime={entry.createdAt.toISOString()}>{formatDateTime(entry.createdAt)}</time>
      </td>
      <td className="px-3 py-3 font-mono whitespace-nowrap text-slate-200">
        {entry.actorUsername}
      </td>
      <td className="px-3 py-3">
        <div className="text-slate-100">{actionLabel[entry.action] ?? entry.action}</div>
        {entry.previousBouncer && (
          <div className="mt-0.5 text-xs font-medium text-amber-200">
            About a previous bouncer with this name
          </div>
        )}
        <div className="font-mono text-xs whitespace-nowrap text-slate-400">{entry.action}</div>
        {details.length > 0 && (
          <dl className="mt-1 text-xs text-slate-400">
            {details.map(([k, v]) => (
              <div key={k}>
                <dt className="inline">{humanKey(k)}: </dt>
                <dd className="inline text-slate-400">
                  {typeof v === "boolean" ? (v ? "yes" : "no") : String(v)}
                </dd>
              </div>
            ))}
          </dl>
        )}
      </td>
      {showTarget && (
        <td className="px-3 py-3">
          {bouncer ? (
            <Link
              href={`/admin/bouncers/${bouncer}`}
              className={`rounded font-mono text-emerald-300 hover:text-emerald-200 hover:underline ${focusRing}`}
            >
              {bouncer}
            </Link>
          ) : null}
          <div className="font-mono text-xs break-all text-slate-400">{entry.target}</div>
        </td>
      )}
      <td className="max-w-md px-3 py-3 break-words whitespace-pre-wrap text-slate-300">
        {entry.reason ?? <span className="text-slate-400">No reason given</span>}
      </td>
    </tr>
  );
}

/** `wasConfigured` → "Was configured". */
function humanKey(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
