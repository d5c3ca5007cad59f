import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { currentSession } from "~/server/auth/session";
import { PageMain } from "../_components/page-main";
import { SiteHeader } from "../_components/site-header";
import { DeleteAccount } from "./_components/delete-account";
import { ExportData } from "./_components/export-data";
import { ProfileForm } from "./_components/profile-form";

export const metadata: Metadata = { title: "Profile" };
export const dynamic = "force-dynamic";

export default async function ProfilePage() {
  const session = await currentSession();
  if (!session) redirect("/signin?callbackUrl=/profile");
  return (
    <>
      <SiteHeader session={session} />
      <PageMain className="mx-auto max-w-6xl px-4 py-8 sm:px-6 sm:py-10">
        <h1 id="profile-heading" className="text-3xl font-bold text-white">
          Profile
        </h1>
        <p className="mt-2 max-w-3xl text-slate-400">
          How other irc.now services know you. Your username,{" "}
          <span className="font-mono text-slate-200">{session.user.username}</span>, is your IRC
          account and cannot change.
        </p>
        <ProfileForm />
        <ExportData />
        <div className="mt-12 max-w-3xl">
          <DeleteAccount username={session.user.username} />
        </div>
      </PageMain>
    </>
  );
}
