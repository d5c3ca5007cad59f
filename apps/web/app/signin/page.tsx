import { redirect } from "next/navigation";
import { currentSession } from "~/server/auth/session";
import { SignInButton } from "../_components/sign-in-button";

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
    <main className="mx-auto max-w-md px-6 py-24 text-center">
      <h1 className="text-2xl font-bold text-white">Sign in to irc.now</h1>
      <p className="mt-3 text-slate-400">You will continue on the irc.now sign-in page.</p>
      <SignInButton
        callbackUrl={target}
        className="mt-8 rounded-md bg-emerald-500 px-5 py-3 font-semibold text-slate-950 hover:bg-emerald-400"
      >
        Continue to sign in
      </SignInButton>
    </main>
  );
}
