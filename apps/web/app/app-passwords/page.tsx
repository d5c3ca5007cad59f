import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { currentSession } from "~/server/auth/session";
import { PageMain } from "../_components/page-main";
import { SiteHeader } from "../_components/site-header";
import { AppPasswordList } from "./_components/app-password-list";

export const metadata: Metadata = { title: "App passwords" };
export const dynamic = "force-dynamic";

export default async function AppPasswordsPage() {
  const session = await currentSession();
  if (!session) redirect("/signin?callbackUrl=/app-passwords");
  return (
    <>
      <SiteHeader session={session} />
      <PageMain className="mx-auto max-w-6xl px-4 py-8 sm:px-6 sm:py-10">
        <h1 className="text-3xl font-bold text-white">App passwords</h1>
        <p className="mt-2 max-w-3xl text-slate-400">
          Your IRC clients log in to your bouncers with app passwords, never with your irc.now
          sign-in. Make one per device or client; revoke it when you lose the device or stop using
          the client, and the next login with it is refused.
        </p>
        <AppPasswordList />
      </PageMain>
    </>
  );
}
