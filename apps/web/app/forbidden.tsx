import Link from "next/link";
import { connection } from "next/server";
import { currentSession } from "~/server/auth/session";
import { PageMain } from "./_components/page-main";
import { SiteHeader } from "./_components/site-header";
import { primaryAction, StatusPage } from "./_components/status-page";

/**
 * forbidden() (the admin console for a signed-in user without the admin role): a 403 with the
 * site header. Its title comes from the admin pages' metadata (adminMetadata), because Next
 * keeps resolving the page's own metadata when a layout calls forbidden().
 */
export default async function Forbidden() {
  // Rendered per request: the header shows who is signed in.
  await connection();
  const session = await currentSession().catch(() => null);
  return (
    <>
      <SiteHeader session={session} />
      <PageMain>
        <StatusPage
          label="403"
          title="You do not have access to this page"
          actions={
            <Link href="/dashboard" className={primaryAction}>
              Back to your dashboard
            </Link>
          }
        >
          <p>The admin console is for irc.now staff with the admin role.</p>
        </StatusPage>
      </PageMain>
    </>
  );
}
