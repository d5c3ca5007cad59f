/**
 * Stripe stand-in: stripe-node talks to it unchanged; hosted Checkout and Billing Portal pages;
 * signed webhooks with retries; a `/_standin/` control surface. See docs/stand-ins.md ("Stripe").
 */
export { startStripeStandin } from "./standin";
export type { StripeStandin, StripeStandinControl, StripeStandinOptions } from "./standin";
export { STRIPE_API_VERSION } from "./model";
export { TEST_CARDS } from "./billing";
export { payCheckout, submitForm, type PageAnswer } from "./hosted-pages";
export { stripeSignatureHeader } from "./webhooks";
export type {
  DeliveryKind,
  DeliveryRecord,
  HoldMatch,
  StripeEvent,
  WebhookEndpointConfig,
} from "./webhooks";
