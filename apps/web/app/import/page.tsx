import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { currentSession } from "~/server/auth/session";
import { PageMain } from "../_components/page-main";
import { SiteHeader } from "../_components/site-header";
import { ImportFlow } from "./_components/import-flow";

export const metadata: Metadata = { title: "Import from IRCCloud" };
export const dynamic = "force-dynamic";

export default async function ImportPage() {
  const session = await currentSession();
  if (!session) redirect("/signin?callbackUrl=/import");
  return (
    <>
      <SiteHeader session={session} />
      <PageMain className="mx-auto max-w-4xl px-4 py-8 sm:px-6 sm:py-10">
        <h1 className="text-3xl font-bold text-white">Import from IRCCloud</h1>
        <p className="mt-2 text-slate-400">
          Bring your IRCCloud networks and channels into your irc.now bouncer.
        </p>
        <ImportFlow />
      </PageMain>
    </>
  );
}
