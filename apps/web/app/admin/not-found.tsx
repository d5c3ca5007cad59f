import Link from "next/link";
import { primaryAction, StatusPage } from "../_components/status-page";

/**
 * notFound() inside the admin console (e.g. /admin/bouncers/Not_A_Name): rendered in the admin
 * layout, so the site header and the admin navigation stay. The title comes from the page's
 * generateMetadata (a not-found file's metadata is only used for unmatched URLs).
 */
export default function AdminNotFound() {
  return (
    <StatusPage
      label="404"
      title="Page not found"
      actions={
        <Link href="/admin" className={primaryAction}>
          All bouncers
        </Link>
      }
    >
      <p>
        There is no admin page at this address. Bouncer names use only lowercase letters, digits and
        hyphens.
      </p>
    </StatusPage>
  );
}
