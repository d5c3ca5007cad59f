import type { Metadata } from "next";
import Link from "next/link";
import { PageMain } from "../../_components/page-main";
import { SiteHeader } from "../../_components/site-header";

export const metadata: Metadata = { title: "Sign-in problem" };

const messages: Record<string, string> = {
  Username:
    "Your username cannot be used on IRC. Usernames must start with a letter and use only a–z, 0–9, _ and -. Please change it in your account settings and sign in again.",
  UsernameReserved:
    "Your username is reserved on the irc.now IRC network, so it cannot become your IRC account. Please change it in your account settings and sign in again.",
  AccountDeleting:
    "This irc.now account is being deleted, so it can no longer be used to sign in. If you did not ask for this, contact support.",
  AccessDenied: "Sign-in was refused.",
  Callback: "We could not finish signing you in. Please try again.",
  OAuthCallback: "We could not finish signing you in. Please try again.",
  Configuration: "Sign-in is not available right now. Please try again later.",
};

/** Why a username is reserved (`reason` of UsernameReserved; codes of unusableAccountName). */
const reservedBecause: Record<string, string> = {
  "service-name": "It is the name of one of the network's services (such as NickServ or ChanServ).",
  "guest-pattern":
    "Names starting with “Guest-” are given to visitors who are not logged in, so they cannot be registered.",
  "admin-nick": "It is the name irc.now's own staff tools use on the network.",
};

export default async function AuthErrorPage({
  searchParams,
}: {
  searchParams: Promise<{ error?: string; reason?: string }>;
}) {
  const { error, reason } = await searchParams;
  // Only known codes turn into text: nothing from the URL is echoed.
  const because = error === "UsernameReserved" ? reservedBecause[reason ?? ""] : undefined;
  return (
    <>
      <SiteHeader session={null} />
      <PageMain className="mx-auto max-w-xl px-4 py-16 sm:px-6 sm:py-24">
        <h1 className="text-2xl font-bold text-white">Sign-in problem</h1>
        <div role="alert" className="mt-4 space-y-2 text-slate-300">
          <p data-testid="auth-error-message">
            {messages[error ?? ""] ??
              "Something went wrong while signing you in. Please try again."}
          </p>
          {because && <p data-testid="auth-error-reason">{because}</p>}
        </div>
        <Link
          href="/"
          className="mt-8 inline-block rounded text-emerald-400 underline-offset-4 hover:text-emerald-300 hover:underline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400"
        >
          Back to irc.now
        </Link>
      </PageMain>
    </>
  );
}
