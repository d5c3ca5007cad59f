import type { Metadata } from "next";
import { forbidden, redirect } from "next/navigation";
import { currentSession } from "~/server/auth/session";
import { PageMain } from "../_components/page-main";
import { SiteHeader } from "../_components/site-header";
import { AdminNav } from "./_components/admin-nav";

export const metadata: Metadata = { title: { default: "Admin", template: "%s · Admin · irc.now" } };
export const dynamic = "force-dynamic";

/**
 * Every admin page passes through here: no session → sign in; signed in without the admin
 * role → a real 403 (app/forbidden.tsx). The admin tRPC procedures check the role again.
 */
export default async function AdminLayout({ children }: { children: React.ReactNode }) {
  const session = await currentSession();
  if (!session) redirect("/signin?callbackUrl=/admin");
  if (!session.user.isAdmin) forbidden();
  return (
    <>
      <SiteHeader session={session} />
      <div className="border-b border-slate-900 bg-slate-900/30">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-2 sm:px-6">
          <p className="font-mono text-xs tracking-wider text-emerald-400 uppercase">
            Admin console
          </p>
          <AdminNav />
        </div>
      </div>
      <PageMain className="mx-auto max-w-6xl px-4 py-8 sm:px-6 sm:py-10">{children}</PageMain>
    </>
  );
}
