import type { Metadata } from "next";
import { Suspense } from "react";
import { AuditLog } from "../_components/audit-log";
import { adminMetadata } from "../_components/metadata";

export function generateMetadata(): Promise<Metadata> {
  return adminMetadata("Audit log");
}

export default function AdminAuditPage() {
  return (
    <>
      <h1 className="text-3xl font-bold text-white">Audit log</h1>
      <p className="mt-2 text-slate-400">
        Who did what, when and why: every admin action, newest first.
      </p>
      <Suspense fallback={<p className="mt-8 text-slate-400">Loading the audit log…</p>}>
        <AuditLog />
      </Suspense>
    </>
  );
}
