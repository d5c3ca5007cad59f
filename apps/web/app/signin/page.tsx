import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { env } from "~/env";
import { safeRedirectPath } from "~/server/auth/redirect";
import { retryAfterWords } from "~/server/auth/sign-in-limits";
import { currentSession } from "~/server/auth/session";
import { PageMain } from "../_components/page-main";
import { SignInButton } from "../_components/sign-in-button";
import { SiteHeader } from "../_components/site-header";

export const metadata: Metadata = { title: "Sign in" };

export const dynamic = "force-dynamic";

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<{ callbackUrl?: string | string[]; retryAfter?: string | string[] }>;
}) {
  const { callbackUrl, retryAfter } = await searchParams;
  // Set when the sign-in start was over its rate limit: only a number is ever shown.
  const waitS =
    typeof retryAfter === "string" && /^\d{1,5}$/.test(retryAfter) ? Number(retryAfter) : 0;
  // Same-origin path and query only (`/\evil.example`, `/%09/evil.example`… go to /dashboard).
  const target = safeRedirectPath(callbackUrl, env().AUTH_URL);
  if (await currentSession()) redirect(target);
  return (
    <>
      <SiteHeader session={null} />
      <PageMain className="mx-auto max-w-md px-4 py-16 text-center sm:px-6 sm:py-24">
        <h1 className="text-2xl font-bold text-white">Sign in to irc.now</h1>
        <p className="mt-3 text-slate-400">You will continue on the irc.now sign-in page.</p>
        {waitS > 0 && (
          <p role="alert" data-testid="signin-rate-limited" className="mt-4 text-amber-300">
            There have been too many sign-in attempts from your network. Please try again in{" "}
            {retryAfterWords(waitS)}.
          </p>
        )}
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
