import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { currentSession } from "~/server/auth/session";
import { PageMain } from "../_components/page-main";
import { SignInButton } from "../_components/sign-in-button";
import { SiteHeader } from "../_components/site-header";

export const metadata: Metadata = { title: "Sign in" };

export const dynamic = "force-dynamic";

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<{ callbackUrl?: string }>;
}) {
  const { callbackUrl } = await searchParams;
  const target =
    callbackUrl?.startsWith("/") && !callbackUrl.startsWith("//") ? callbackUrl : "/dashboard";
  if (await currentSession()) redirect(target);
  return (
    <>
      <SiteHeader session={null} />
      <PageMain className="mx-auto max-w-md px-4 py-16 text-center sm:px-6 sm:py-24">
        <h1 className="text-2xl font-bold text-white">Sign in to irc.now</h1>
        <p className="mt-3 text-slate-400">You will continue on the irc.now sign-in page.</p>
        <SignInButton
          callbackUrl={target}
          className="mt-8 rounded-md bg-emerald-500 px-5 py-3 font-semibold text-slate-950 hover:bg-emerald-400 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-300"
        >
          Continue to sign in
        </SignInButton>
      </PageMain>
    </>
  );
}
