"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { usePathname, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import { useTRPC } from "~/trpc/react";
import { AuditTable } from "./audit-table";
import { Pagination } from "./pagination";
import { ErrorNotice } from "./ui";

const PAGE_SIZE = 50;

/** The whole audit log, newest first, a page at a time (page number kept in the URL). */
export function AuditLog() {
  const trpc = useTRPC();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const [page, setPage] = useState(() => {
    const n = Number.parseInt(searchParams.get("page") ?? "", 10);
    return Number.isFinite(n) && n >= 1 ? Math.min(n, 10_000) : 1;
  });

  useEffect(() => {
    const url = page > 1 ? `${pathname}?page=${page}` : pathname;
    if (url !== `${window.location.pathname}${window.location.search}`)
      window.history.replaceState(null, "", url);
  }, [page, pathname]);

  const audit = useQuery(
    trpc.admin.audit.queryOptions(
      { page, pageSize: PAGE_SIZE },
      { refetchInterval: 15_000, placeholderData: keepPreviousData },
    ),
  );

  const total = audit.data?.total;
  useEffect(() => {
    if (total === undefined) return;
    const lastPage = Math.max(1, Math.ceil(total / PAGE_SIZE));
    if (page > lastPage) setPage(lastPage);
  }, [total, page]);

  return (
    <div className="mt-8 space-y-4">
      {audit.isError && (
        <ErrorNotice
          error={audit.error}
          prefix={audit.data ? "Could not refresh the audit log:" : "Could not load the audit log:"}
        />
      )}
      {audit.isPending ? (
        <p className="text-slate-400">Loading the audit log…</p>
      ) : audit.data ? (
        <>
          <AuditTable
            rows={audit.data.rows}
            caption="Audit log, newest first"
            empty="No admin has done anything yet. Retries and other admin actions are recorded here."
          />
          {audit.data.total > 0 && (
            <Pagination
              page={page}
              pageSize={PAGE_SIZE}
              total={audit.data.total}
              onPage={setPage}
              label="Audit log"
            />
          )}
        </>
      ) : null}
    </div>
  );
}
