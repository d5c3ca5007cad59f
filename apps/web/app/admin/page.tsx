import type { Metadata } from "next";
import { Suspense } from "react";
import { AdminCharts } from "./_components/admin-charts";
import { BouncerTable } from "./_components/bouncer-table";
import { adminMetadata } from "./_components/metadata";

// The layout's title template applies to child segments only, so this page spells it out.
export function generateMetadata(): Promise<Metadata> {
  return adminMetadata("Bouncers · Admin");
}

export default function AdminBouncersPage() {
  return (
    <>
      <h1 className="text-3xl font-bold text-white">Bouncers</h1>
      <p className="mt-2 text-slate-400">
        Every bouncer on irc.now, its setup progress and whether it is logged in upstream.
      </p>
      <AdminCharts />
      <Suspense fallback={<p className="mt-10 text-slate-400">Loading bouncers…</p>}>
        <BouncerTable />
      </Suspense>
    </>
  );
}
