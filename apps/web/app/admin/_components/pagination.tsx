import { focusRing } from "./ui";

const buttonClass = `rounded-md border border-slate-700 px-3 py-1.5 text-sm text-slate-200 hover:bg-slate-800 disabled:cursor-not-allowed disabled:opacity-40 disabled:hover:bg-transparent ${focusRing}`;

/** "26–50 of 120" with Previous / Next. `label` names what is being paged, for screen readers. */
export function Pagination({
  page,
  pageSize,
  total,
  onPage,
  label,
}: {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
  label: string;
}) {
  const lastPage = Math.max(1, Math.ceil(total / pageSize));
  const first = total === 0 ? 0 : (page - 1) * pageSize + 1;
  const last = Math.min(total, page * pageSize);
  return (
    <nav
      aria-label={`${label} pages`}
      className="flex flex-wrap items-center justify-between gap-3 text-sm"
    >
      <p aria-live="polite" className="text-slate-400" data-testid="pagination-range">
        {total === 0 ? "0 of 0" : `${first}–${last} of ${total}`}
      </p>
      <div className="flex items-center gap-2">
        <button
          type="button"
          className={buttonClass}
          disabled={page <= 1}
          onClick={() => onPage(page - 1)}
        >
          <span aria-hidden="true">← </span>Previous<span className="sr-only"> page</span>
        </button>
        <span className="text-slate-400">
          Page {Math.min(page, lastPage)} of {lastPage}
        </span>
        <button
          type="button"
          className={buttonClass}
          disabled={page >= lastPage}
          onClick={() => onPage(page + 1)}
        >
          Next<span className="sr-only"> page</span>
          <span aria-hidden="true"> →</span>
        </button>
      </div>
    </nav>
  );
}
