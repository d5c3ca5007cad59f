/**
 * What happens to customers, subscriptions and invoices, and the events each change sends.
 * Used by the API, the hosted pages and the control surface alike, so a cancel from the portal
 * page and one through `DELETE /v1/subscriptions/:id` are the same change with the same events.
 */
import { StripeApiError, noSuch } from "./errors";
import {
  nowSeconds,
  periodEnd,
  previousAttributes,
  renderCheckoutSession,
  renderCustomer,
  renderInvoice,
  renderSubscription,
  stripeId,
  type CheckoutSessionRecord,
  type CustomerRecord,
  type InvoiceRecord,
  type Metadata,
  type StripeStore,
  type SubscriptionRecord,
} from "./model";
import type { StripeEvent, WebhookDeliverer } from "./webhooks";

export type EventRequest = StripeEvent["request"];
const NO_REQUEST: EventRequest = { id: null, idempotency_key: null };

/** Stripe's test cards the hosted checkout page knows (spaces and dashes are ignored). */
export const TEST_CARDS = {
  pays: "4242424242424242",
  declined: "4000000000000002",
  insufficientFunds: "4000000000009995",
} as const;

export type CardResult = { ok: true } | { ok: false; message: string; field: "card" | "email" };

/** Days until Stripe's next automatic retry of a failed renewal (Smart Retries vary; fixed here). */
const RETRY_AFTER_DAYS = 3;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Stripe's answers to a test card (texts as Checkout shows them). */
export function chargeCard(cardNumber: string): CardResult {
  const digits = cardNumber.replace(/[\s-]/g, "");
  if (!/^\d{13,19}$/.test(digits) || !luhn(digits))
    return { ok: false, field: "card", message: "Your card number is invalid." };
  if (digits === TEST_CARDS.pays || digits === "5555555555554444") return { ok: true };
  if (digits === TEST_CARDS.declined)
    return { ok: false, field: "card", message: "Your card was declined." };
  if (digits === TEST_CARDS.insufficientFunds)
    return { ok: false, field: "card", message: "Your card has insufficient funds." };
  return {
    ok: false,
    field: "card",
    message:
      "Your card was declined. Your request was in test mode, but used a non test card. For a list of valid test cards, visit: https://stripe.com/docs/testing.",
  };
}

/**
 * Setting `cancel_at_period_end` also sets `cancel_at` (the period end), `canceled_at` (when
 * it was asked) and the reason; clearing it clears them, as Stripe does.
 */
export function applyCancelAtPeriodEnd(s: SubscriptionRecord, value: boolean): void {
  if (s.cancelAtPeriodEnd === value) return;
  s.cancelAtPeriodEnd = value;
  s.cancelAt = value ? s.periodEnd : null;
  s.canceledAt = value ? nowSeconds() : null;
  s.cancellationReason = value ? "cancellation_requested" : null;
}

export class Billing {
  constructor(
    private readonly store: StripeStore,
    private readonly webhooks: WebhookDeliverer,
    private readonly baseUrl: () => string,
  ) {}

  subscription(id: string): SubscriptionRecord {
    const s = this.store.subscriptions.get(id);
    if (!s) throw noSuch("subscription", id);
    return s;
  }

  renderSub(s: SubscriptionRecord) {
    return renderSubscription(this.store, s);
  }

  renderInv(i: InvoiceRecord) {
    return renderInvoice(this.store, i, this.baseUrl());
  }

  createCustomer(
    input: {
      email?: string | null;
      name?: string | null;
      description?: string | null;
      metadata?: Metadata;
    },
    request: EventRequest = NO_REQUEST,
  ): CustomerRecord {
    const c: CustomerRecord = {
      id: stripeId("cus_", 14),
      created: nowSeconds(),
      email: input.email ?? null,
      name: input.name ?? null,
      description: input.description ?? null,
      metadata: { ...(input.metadata ?? {}) },
    };
    this.store.customers.set(c.id, c);
    this.webhooks.emit("customer.created", renderCustomer(c), undefined, request);
    return c;
  }

  updateCustomer(
    c: CustomerRecord,
    change: (c: CustomerRecord) => void,
    request: EventRequest = NO_REQUEST,
  ): void {
    const before = renderCustomer(c);
    change(c);
    const after = renderCustomer(c);
    const previous = previousAttributes(before, after);
    if (Object.keys(previous).length > 0)
      this.webhooks.emit("customer.updated", after, previous, request);
  }

  /**
   * The hosted page's "Subscribe": the card is charged; on success the customer exists (made
   * now if the session had none), the subscription is `active` for its first period, its first
   * invoice is paid and the session is complete. A declined card changes nothing.
   */
  payCheckout(
    session: CheckoutSessionRecord,
    email: string | null,
    cardNumber: string,
  ): CardResult {
    if (!session.customer && !session.customerEmail && !email)
      return { ok: false, field: "email", message: "Your email is incomplete." };
    const charge = chargeCard(cardNumber);
    if (!charge.ok) return charge;
    const customer = session.customer
      ? this.store.customer(session.customer)
      : this.createCustomer({ email: session.customerEmail ?? email });
    const price = this.store.price(session.priceId);
    const now = nowSeconds();
    const sub: SubscriptionRecord = {
      id: stripeId("sub_1"),
      customer: customer.id,
      created: now,
      status: "active",
      cancelAtPeriodEnd: false,
      cancelAt: null,
      canceledAt: null,
      endedAt: null,
      cancellationReason: null,
      description: session.subscriptionDescription,
      metadata: { ...session.subscriptionMetadata },
      itemId: stripeId("si_", 14),
      priceId: price.id,
      quantity: session.quantity,
      periodStart: now,
      periodEnd: periodEnd(now, price.interval, price.intervalCount),
      billingCycleAnchor: now,
      latestInvoice: null,
      defaultPaymentMethod: stripeId("pm_1"),
    };
    this.store.subscriptions.set(sub.id, sub);
    const invoice = this.newInvoice(sub, customer, "subscription_create", now, now);
    invoice.status = "paid";
    invoice.attemptCount = 1;
    invoice.paidAt = now;
    sub.latestInvoice = invoice.id;
    session.status = "complete";
    session.paymentStatus = "paid";
    session.customer = customer.id;
    session.paidEmail = customer.email ?? email;
    session.subscription = sub.id;
    session.invoice = invoice.id;
    this.webhooks.emit("customer.subscription.created", this.renderSub(sub));
    this.webhooks.emit("invoice.paid", this.renderInv(invoice));
    this.webhooks.emit(
      "checkout.session.completed",
      renderCheckoutSession(this.store, session, this.baseUrl()),
    );
    return { ok: true };
  }

  /** Any change to a subscription that is not its end: one `customer.subscription.updated`. */
  updateSubscription(
    sub: SubscriptionRecord,
    change: (s: SubscriptionRecord) => void,
    request: EventRequest = NO_REQUEST,
  ): void {
    const before = this.renderSub(sub);
    change(sub);
    const after = this.renderSub(sub);
    const previous = previousAttributes(before, after);
    if (Object.keys(previous).length > 0)
      this.webhooks.emit("customer.subscription.updated", after, previous, request);
  }

  /** `cancel_at_period_end`: true schedules the end (cancel_at = period end), false resumes. */
  setCancelAtPeriodEnd(sub: SubscriptionRecord, value: boolean, request?: EventRequest): void {
    this.assertNotCanceled(sub);
    this.updateSubscription(sub, (s) => applyCancelAtPeriodEnd(s, value), request);
  }

  /** Cancels now: `canceled`, and `customer.subscription.deleted` (no previous_attributes). */
  cancelNow(
    sub: SubscriptionRecord,
    reason: SubscriptionRecord["cancellationReason"] = "cancellation_requested",
    request: EventRequest = NO_REQUEST,
  ): void {
    // Unrecorded: Stripe's exact text for canceling a canceled subscription.
    if (sub.status === "canceled")
      throw new StripeApiError(
        400,
        "invalid_request_error",
        `This subscription has already been canceled: '${sub.id}'`,
        "resource_missing",
      );
    const now = nowSeconds();
    sub.status = "canceled";
    sub.canceledAt = now;
    sub.endedAt = now;
    sub.cancelAtPeriodEnd = false;
    sub.cancelAt = null;
    sub.cancellationReason = reason;
    this.webhooks.emit("customer.subscription.deleted", this.renderSub(sub), undefined, request);
  }

  /**
   * The period ends. A subscription set to cancel at period end is canceled (`deleted`);
   * otherwise the next period starts (`updated`) and its invoice is paid (`invoice.paid`).
   */
  renew(sub: SubscriptionRecord): void {
    this.assertNotCanceled(sub);
    if (sub.status === "past_due" || sub.status === "unpaid")
      throw new StripeApiError(
        400,
        "invalid_request_error",
        `Subscription ${sub.id} is ${sub.status}: pay its open invoice first (stand-in control "pay").`,
      );
    if (sub.cancelAtPeriodEnd) {
      const end = sub.periodEnd;
      sub.status = "canceled";
      sub.endedAt = end;
      this.webhooks.emit("customer.subscription.deleted", this.renderSub(sub));
      return;
    }
    const invoice = this.startNextPeriod(sub);
    invoice.status = "paid";
    invoice.attemptCount = 1;
    invoice.paidAt = nowSeconds();
    this.webhooks.emit("invoice.paid", this.renderInv(invoice));
  }

  /**
   * The renewal's charge fails: the next period starts with an open invoice, the invoice's
   * `invoice.payment_failed`, then the subscription goes `past_due`. On a subscription already
   * past_due it is the next failed retry of its open invoice.
   */
  failPayment(sub: SubscriptionRecord): void {
    this.assertNotCanceled(sub);
    if (sub.status === "unpaid")
      throw new StripeApiError(400, "invalid_request_error", `Subscription ${sub.id} is unpaid.`);
    const retrying = sub.status === "past_due";
    const invoice = retrying ? this.openInvoice(sub) : this.startNextPeriod(sub);
    invoice.attemptCount++;
    invoice.nextPaymentAttempt = nowSeconds() + RETRY_AFTER_DAYS * 86_400;
    this.webhooks.emit("invoice.payment_failed", this.renderInv(invoice));
    if (!retrying) this.updateSubscription(sub, (s) => (s.status = "past_due"));
  }

  /** All retries failed: `past_due` → `unpaid` (the open invoice stays open). */
  markUnpaid(sub: SubscriptionRecord): void {
    if (sub.status !== "past_due")
      throw new StripeApiError(
        400,
        "invalid_request_error",
        `Only a past_due subscription becomes unpaid; ${sub.id} is ${sub.status}.`,
      );
    const invoice = this.openInvoice(sub);
    invoice.nextPaymentAttempt = null;
    this.updateSubscription(sub, (s) => (s.status = "unpaid"));
  }

  /** A retry of the open invoice succeeds: `invoice.paid`, then the subscription is `active`. */
  payOpenInvoice(sub: SubscriptionRecord): void {
    this.assertNotCanceled(sub);
    const invoice = this.openInvoice(sub);
    invoice.status = "paid";
    invoice.attemptCount++;
    invoice.paidAt = nowSeconds();
    invoice.nextPaymentAttempt = null;
    this.webhooks.emit("invoice.paid", this.renderInv(invoice));
    this.updateSubscription(sub, (s) => (s.status = "active"));
  }

  private openInvoice(sub: SubscriptionRecord): InvoiceRecord {
    const invoice = sub.latestInvoice ? this.store.invoices.get(sub.latestInvoice) : undefined;
    if (!invoice || invoice.status !== "open")
      throw new StripeApiError(
        400,
        "invalid_request_error",
        `Subscription ${sub.id} has no open invoice.`,
      );
    return invoice;
  }

  private assertNotCanceled(sub: SubscriptionRecord): void {
    if (sub.status === "canceled")
      throw new StripeApiError(
        400,
        "invalid_request_error",
        "A canceled subscription can only update its cancellation_details and metadata.",
      );
  }

  /** Moves the period on (one `updated`) and makes the cycle's open invoice. */
  private startNextPeriod(sub: SubscriptionRecord): InvoiceRecord {
    const price = this.store.price(sub.priceId);
    const customer = this.store.customer(sub.customer);
    const previousStart = sub.periodStart;
    const previousEnd = sub.periodEnd;
    let invoice: InvoiceRecord | undefined;
    this.updateSubscription(sub, (s) => {
      s.periodStart = previousEnd;
      s.periodEnd = periodEnd(previousEnd, price.interval, price.intervalCount);
      invoice = this.newInvoice(s, customer, "subscription_cycle", previousStart, previousEnd);
      s.latestInvoice = invoice.id;
    });
    return invoice!;
  }

  private newInvoice(
    sub: SubscriptionRecord,
    customer: CustomerRecord,
    reason: InvoiceRecord["billingReason"],
    periodStart: number,
    periodEndAt: number,
  ): InvoiceRecord {
    const price = this.store.price(sub.priceId);
    const now = nowSeconds();
    const invoice: InvoiceRecord = {
      id: stripeId("in_1"),
      number: this.store.nextInvoiceNumber(customer),
      customer: customer.id,
      subscription: sub.id,
      created: now,
      status: "open",
      billingReason: reason,
      amount: price.unitAmount * sub.quantity,
      currency: price.currency,
      attemptCount: 0,
      finalizedAt: now,
      paidAt: null,
      nextPaymentAttempt: null,
      periodStart,
      periodEnd: periodEndAt,
      lineId: stripeId("il_1"),
      linePeriod: { start: sub.periodStart, end: sub.periodEnd },
      priceId: price.id,
      quantity: sub.quantity,
    };
    this.store.invoices.set(invoice.id, invoice);
    return invoice;
  }
}
