import { startPortal } from "~/server/domain/billing";
import { billingRedirect } from "../billing-redirect";

export const dynamic = "force-dynamic";

/** "Manage billing" on /billing: 303 to Stripe's Billing Portal for the user's customer. */
export function POST(request: Request): Promise<Response> {
  return billingRedirect(request, "portal", startPortal);
}
