import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { currentSession } from "~/server/auth/session";
import { PageMain } from "../_components/page-main";
import { SiteHeader } from "../_components/site-header";
import { BouncerDashboard } from "./_components/bouncer-dashboard";

export const metadata: Metadata = { title: "Dashboard" };
export const dynamic = "force-dynamic";

export default async function DashboardPage() {
  const session = await currentSession();
  if (!session) redirect("/signin?callbackUrl=/dashboard");
  return (
    <>
      <SiteHeader session={session} />
      <PageMain className="mx-auto max-w-6xl px-4 py-8 sm:px-6 sm:py-10">
        <h1 className="text-3xl font-bold text-white">Your bouncers</h1>
        <p className="mt-2 text-slate-400">
          Signed in as <span className="font-mono text-slate-200">{session.user.username}</span>.
          Status updates by itself.
        </p>
        <BouncerDashboard />
      </PageMain>
    </>
  );
}
