import type { Metadata } from "next";
import Link from "next/link";
import { connection } from "next/server";
import { currentSession } from "~/server/auth/session";
import { PageMain } from "./_components/page-main";
import { SiteHeader } from "./_components/site-header";
import { primaryAction, StatusPage } from "./_components/status-page";

export const metadata: Metadata = { title: "Page not found" };

/** Any URL the app does not have (and notFound() outside the admin console). */
export default async function NotFound() {
  // Rendered per request (the header shows who is signed in); without this Next prerenders the
  // 404 once at build time, with nobody signed in.
  await connection();
  const session = await currentSession().catch(() => null);
  return (
    <>
      <SiteHeader session={session} />
      <PageMain>
        <StatusPage
          label="404"
          title="Page not found"
          actions={
            session ? (
              <Link href="/dashboard" className={primaryAction}>
                Go to your dashboard
              </Link>
            ) : (
              <Link href="/" className={primaryAction}>
                Go to the home page
              </Link>
            )
          }
        >
          <p>There is no page at this address. It may have moved, or the link has a typo.</p>
        </StatusPage>
      </PageMain>
    </>
  );
}
