import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { currentSession } from "~/server/auth/session";
import { PageMain } from "../_components/page-main";
import { SignInButton } from "../_components/sign-in-button";
import { SiteHeader } from "../_components/site-header";
import { primaryAction, secondaryAction, StatusPage } from "../_components/status-page";

export const metadata: Metadata = { title: "Signed out" };
export const dynamic = "force-dynamic";

/** Where Keycloak sends the browser back after "Sign out" (post_logout_redirect_uri). */
export default async function SignedOutPage({
  searchParams,
}: {
  searchParams: Promise<{ state?: string }>;
}) {
  // Keycloak hands back the `state` the profile's "Delete account" put on the logout URL.
  const deleted = (await searchParams).state === "account-deleted";
  // Still signed in (an old bookmark, another tab signed in again): nothing to confirm.
  if (await currentSession().catch(() => null)) redirect("/dashboard");
  return (
    <>
      <SiteHeader session={null} />
      <PageMain>
        <StatusPage
          title={deleted ? "Your account is being deleted" : "You are signed out"}
          actions={
            <>
              <SignInButton className={primaryAction}>Sign in again</SignInButton>
              <Link href="/" className={secondaryAction}>
                Go to the home page
              </Link>
            </>
          }
        >
          {deleted ? (
            <p data-testid="signed-out-message">
              Your irc.now account is being deleted: your bouncers, your IRC account and your
              sign-in go within a few minutes. You have been signed out everywhere.
            </p>
          ) : (
            <p data-testid="signed-out-message">
              You signed out of irc.now and of your irc.now account in this browser. Your bouncers
              keep running and stay connected to IRC.
            </p>
          )}
        </StatusPage>
      </PageMain>
    </>
  );
}
