import type Stripe from "stripe";
import { TEST_CARDS } from "../../src/stripe";
import { payCheckout, type Fixture } from "./helpers";

/** A customer with an active pro subscription bought through the hosted page; deliveries done. */
export async function subscribe(
  f: Fixture,
  email: string,
): Promise<{ customer: Stripe.Customer; subscription: Stripe.Subscription }> {
  const customer = await f.stripe.customers.create({ email });
  const session = await f.stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: f.standin.proPriceId, quantity: 1 }],
    subscription_data: { metadata: { user_id: email } },
    success_url: "http://localhost:3000/billing?checkout=success",
  });
  const paid = await payCheckout(session, TEST_CARDS.pays);
  if (paid.status !== 303) throw new Error(`checkout did not pay: ${paid.html}`);
  const done = await f.stripe.checkout.sessions.retrieve(session.id);
  const subscription = await f.stripe.subscriptions.retrieve(done.subscription as string);
  await f.standin.idle();
  return { customer, subscription };
}
