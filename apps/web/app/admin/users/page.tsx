import type { Metadata } from "next";
import { Suspense } from "react";
import { adminMetadata } from "../_components/metadata";
import { UserTable } from "./_components/user-table";

export function generateMetadata(): Promise<Metadata> {
  return adminMetadata("Users");
}

export default function AdminUsersPage() {
  return (
    <>
      <h1 className="text-3xl font-bold text-white">Users</h1>
      <p className="mt-2 max-w-3xl text-slate-400">
        Every portal account: plan and subscription, bouncers (and how many are suspended), last
        sign-in, and accounts whose deletion is still under way.
      </p>
      <Suspense fallback={<p className="mt-8 text-slate-400">Loading users…</p>}>
        <UserTable />
      </Suspense>
    </>
  );
}
