import { startCheckout } from "~/server/domain/billing";
import { billingRedirect } from "../billing-redirect";

export const dynamic = "force-dynamic";

/** "Upgrade to pro" on /billing: 303 to Stripe Checkout for the pro price. */
export function POST(request: Request): Promise<Response> {
  return billingRedirect(request, "checkout", startCheckout);
}
