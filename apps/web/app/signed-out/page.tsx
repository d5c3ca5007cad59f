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
export default async function SignedOutPage() {
  // Still signed in (an old bookmark, another tab signed in again): nothing to confirm.
  if (await currentSession().catch(() => null)) redirect("/dashboard");
  return (
    <>
      <SiteHeader session={null} />
      <PageMain>
        <StatusPage
          title="You are signed out"
          actions={
            <>
              <SignInButton className={primaryAction}>Sign in again</SignInButton>
              <Link href="/" className={secondaryAction}>
                Go to the home page
              </Link>
            </>
          }
        >
          <p data-testid="signed-out-message">
            You signed out of irc.now and of your irc.now account in this browser. Your bouncers
            keep running and stay connected to IRC.
          </p>
        </StatusPage>
      </PageMain>
    </>
  );
}
