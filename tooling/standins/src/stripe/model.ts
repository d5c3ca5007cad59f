/**
 * The stand-in's records and how they render as API objects of the pinned API version
 * (`STRIPE_API_VERSION`, the one stripe-node 23 pins). Since basil the billing period lives on
 * `items.data[]` (`current_period_start/end`) and an invoice names its subscription under
 * `parent.subscription_details.subscription`; the renderers below follow that shape. Fields the
 * portal never reads are rendered with Stripe's empty values so that typed clients see every
 * required key.
 */
import { randomBytes } from "node:crypto";

/** The API version stripe-node 23.1 pins (its `ApiVersion`); the stand-in speaks only this one. */
export const STRIPE_API_VERSION = "2026-10-28.endive";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** An id shaped like Stripe's: prefix + random base62 (e.g. `cus_` + 14). */
export function stripeId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return `${prefix}${out}`;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export type Metadata = Record<string, string>;
export type Interval = "day" | "week" | "month" | "year";
export type SubscriptionStatus =
  | "incomplete"
  | "incomplete_expired"
  | "trialing"
  | "active"
  | "past_due"
  | "canceled"
  | "unpaid"
  | "paused";

export interface CustomerRecord {
  id: string;
  created: number;
  email: string | null;
  name: string | null;
  description: string | null;
  metadata: Metadata;
}

export interface PriceRecord {
  id: string;
  productId: string;
  productName: string;
  unitAmount: number;
  currency: string;
  interval: Interval;
  intervalCount: number;
  created: number;
  lookupKey: string | null;
  nickname: string | null;
}

export interface CheckoutSessionRecord {
  id: string;
  created: number;
  expiresAt: number;
  status: "open" | "complete" | "expired";
  paymentStatus: "paid" | "unpaid";
  customer: string | null;
  customerEmail: string | null;
  /** The email the customer paid with (customer_details), once complete. */
  paidEmail: string | null;
  clientReferenceId: string | null;
  metadata: Metadata;
  subscriptionMetadata: Metadata;
  subscriptionDescription: string | null;
  priceId: string;
  quantity: number;
  successUrl: string | null;
  cancelUrl: string | null;
  subscription: string | null;
  invoice: string | null;
}

export interface SubscriptionRecord {
  id: string;
  customer: string;
  created: number;
  status: SubscriptionStatus;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  canceledAt: number | null;
  endedAt: number | null;
  cancellationReason: "cancellation_requested" | "payment_failed" | "payment_disputed" | null;
  description: string | null;
  metadata: Metadata;
  itemId: string;
  priceId: string;
  quantity: number;
  periodStart: number;
  periodEnd: number;
  billingCycleAnchor: number;
  latestInvoice: string | null;
  defaultPaymentMethod: string;
}

export interface InvoiceRecord {
  id: string;
  number: string;
  customer: string;
  subscription: string;
  created: number;
  status: "draft" | "open" | "paid" | "uncollectible" | "void";
  billingReason: "subscription_create" | "subscription_cycle";
  amount: number;
  currency: string;
  attemptCount: number;
  finalizedAt: number;
  paidAt: number | null;
  nextPaymentAttempt: number | null;
  /** The invoice's own period (Stripe: the previous period for cycle invoices). */
  periodStart: number;
  periodEnd: number;
  /** The service period the line item charges for. */
  lineId: string;
  linePeriod: { start: number; end: number };
  priceId: string;
  quantity: number;
}

export interface PortalSessionRecord {
  id: string;
  created: number;
  customer: string;
  returnUrl: string | null;
  configuration: string;
}

/** The end of one billing period that starts at `start` (UTC calendar arithmetic, as Stripe). */
export function periodEnd(start: number, interval: Interval, count: number): number {
  const d = new Date(start * 1000);
  if (interval === "day") d.setUTCDate(d.getUTCDate() + count);
  else if (interval === "week") d.setUTCDate(d.getUTCDate() + 7 * count);
  else if (interval === "month") d.setUTCMonth(d.getUTCMonth() + count);
  else d.setUTCFullYear(d.getUTCFullYear() + count);
  return Math.floor(d.getTime() / 1000);
}

/** Everything the stand-in holds, newest last in each map (lists answer newest first). */
export class StripeStore {
  readonly customers = new Map<string, CustomerRecord>();
  readonly prices = new Map<string, PriceRecord>();
  readonly sessions = new Map<string, CheckoutSessionRecord>();
  readonly subscriptions = new Map<string, SubscriptionRecord>();
  readonly invoices = new Map<string, InvoiceRecord>();
  readonly portalSessions = new Map<string, PortalSessionRecord>();
  readonly portalConfiguration = stripeId("bpc_1");
  private invoiceCounter = 0;

  constructor(readonly accountName: string) {}

  nextInvoiceNumber(customer: CustomerRecord): string {
    this.invoiceCounter++;
    return `${customer.id.slice(4, 12).toUpperCase()}-${String(this.invoiceCounter).padStart(4, "0")}`;
  }

  price(id: string): PriceRecord {
    const p = this.prices.get(id);
    if (!p) throw new Error(`stand-in: price ${id} vanished`);
    return p;
  }

  customer(id: string): CustomerRecord {
    const c = this.customers.get(id);
    if (!c) throw new Error(`stand-in: customer ${id} vanished`);
    return c;
  }
}

export type ApiObject = Record<string, unknown>;

const list = (data: unknown[], url: string) => ({
  object: "list",
  data,
  has_more: false,
  total_count: data.length,
  url,
});

export function renderCustomer(c: CustomerRecord): ApiObject {
  return {
    id: c.id,
    object: "customer",
    address: null,
    balance: 0,
    created: c.created,
    currency: null,
    customer_account: null,
    default_source: null,
    delinquent: false,
    description: c.description,
    discount: null,
    email: c.email,
    invoice_prefix: c.id.slice(4, 12).toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: { ...c.metadata },
    name: c.name,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: "none",
    test_clock: null,
  };
}

export function renderPrice(p: PriceRecord): ApiObject {
  return {
    id: p.id,
    object: "price",
    active: true,
    billing_scheme: "per_unit",
    created: p.created,
    currency: p.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: p.lookupKey,
    metadata: {},
    nickname: p.nickname,
    product: p.productId,
    recurring: {
      interval: p.interval,
      interval_count: p.intervalCount,
      meter: null,
      trial_period_days: null,
      usage_type: "licensed",
    },
    tax_behavior: "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: "recurring",
    unit_amount: p.unitAmount,
    unit_amount_decimal: String(p.unitAmount),
  };
}

function renderPlan(p: PriceRecord): ApiObject {
  return {
    id: p.id,
    object: "plan",
    active: true,
    amount: p.unitAmount,
    amount_decimal: String(p.unitAmount),
    billing_scheme: "per_unit",
    created: p.created,
    currency: p.currency,
    interval: p.interval,
    interval_count: p.intervalCount,
    livemode: false,
    metadata: {},
    meter: null,
    nickname: p.nickname,
    product: p.productId,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: "licensed",
  };
}

export function renderSubscription(store: StripeStore, s: SubscriptionRecord): ApiObject {
  const price = store.price(s.priceId);
  const item = {
    id: s.itemId,
    object: "subscription_item",
    billing_thresholds: null,
    created: s.created,
    current_period_end: s.periodEnd,
    current_period_start: s.periodStart,
    current_trial: null,
    discounts: [],
    metadata: {},
    plan: renderPlan(price),
    price: renderPrice(price),
    quantity: s.quantity,
    subscription: s.id,
    tax_rates: [],
  };
  return {
    id: s.id,
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: s.billingCycleAnchor,
    billing_cycle_anchor_config: null,
    billing_mode: {
      flexible: { proration_discounts: "included" },
      type: "flexible",
      updated_at: s.created,
    },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: s.cancelAt,
    cancel_at_period_end: s.cancelAtPeriodEnd,
    canceled_at: s.canceledAt,
    cancellation_details: { comment: null, feedback: null, reason: s.cancellationReason },
    collection_method: "charge_automatically",
    created: s.created,
    currency: price.currency,
    customer: s.customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: s.defaultPaymentMethod,
    default_source: null,
    default_tax_rates: [],
    description: s.description,
    discounts: [],
    ended_at: s.endedAt,
    invoice_settings: { account_tax_ids: null, issuer: { type: "self" } },
    items: list([item], `/v1/subscription_items?subscription=${s.id}`),
    latest_invoice: s.latestInvoice,
    livemode: false,
    managed_payments: null,
    metadata: { ...s.metadata },
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: "off",
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: s.created,
    status: s.status,
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { missing_payment_method: "create_invoice" } },
    trial_start: null,
  };
}

export function renderInvoice(store: StripeStore, inv: InvoiceRecord, baseUrl: string): ApiObject {
  const price = store.price(inv.priceId);
  const customer = store.customer(inv.customer);
  const sub = store.subscriptions.get(inv.subscription);
  const paid = inv.status === "paid";
  const line = {
    id: inv.lineId,
    object: "line_item",
    amount: inv.amount,
    currency: inv.currency,
    description: `${inv.quantity} × ${price.productName} (at ${formatAmount(price.unitAmount, price.currency)} / ${price.interval})`,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: inv.id,
    livemode: false,
    metadata: {},
    parent: {
      invoice_item_details: null,
      subscription_item_details: {
        invoice_item: null,
        proration: false,
        proration_details: { credited_items: null },
        subscription: inv.subscription,
        subscription_item: sub?.itemId ?? null,
      },
      type: "subscription_item_details",
    },
    period: { end: inv.linePeriod.end, start: inv.linePeriod.start },
    pretax_credit_amounts: [],
    pricing: {
      price_details: { price: price.id, product: price.productId },
      type: "price_details",
      unit_amount_decimal: String(price.unitAmount),
    },
    quantity: inv.quantity,
    taxes: [],
  };
  return {
    id: inv.id,
    object: "invoice",
    account_country: "US",
    account_name: store.accountName,
    account_tax_ids: null,
    amount_due: inv.amount,
    amount_overpaid: 0,
    amount_paid: paid ? inv.amount : 0,
    amount_remaining: paid ? 0 : inv.amount,
    amount_shipping: 0,
    application: null,
    attempt_count: inv.attemptCount,
    attempted: inv.attemptCount > 0,
    auto_advance: !paid && inv.status === "open",
    automatic_tax: {
      disabled_reason: null,
      enabled: false,
      liability: null,
      provider: null,
      status: null,
    },
    automatically_finalizes_at: null,
    billing_reason: inv.billingReason,
    collection_method: "charge_automatically",
    created: inv.created,
    currency: inv.currency,
    custom_fields: null,
    customer: inv.customer,
    customer_account: null,
    customer_address: null,
    customer_email: customer.email,
    customer_name: customer.name,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: "none",
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: inv.finalizedAt,
    ending_balance: 0,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: `${baseUrl}/i/${inv.id}`,
    invoice_pdf: `${baseUrl}/i/${inv.id}/pdf`,
    issuer: { type: "self" },
    last_finalization_error: null,
    latest_revision: null,
    lines: list([line], `/v1/invoices/${inv.id}/lines`),
    livemode: false,
    metadata: {},
    next_payment_attempt: inv.nextPaymentAttempt,
    number: inv.number,
    on_behalf_of: null,
    parent: {
      quote_details: null,
      subscription_details: {
        metadata: { ...(sub?.metadata ?? {}) },
        subscription: inv.subscription,
      },
      type: "subscription_details",
    },
    payment_settings: {
      default_mandate: null,
      payment_method_options: null,
      payment_method_types: null,
    },
    period_end: inv.periodEnd,
    period_start: inv.periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: inv.status,
    status_transitions: {
      finalized_at: inv.finalizedAt,
      marked_uncollectible_at: null,
      paid_at: inv.paidAt,
      voided_at: null,
    },
    subtotal: inv.amount,
    subtotal_excluding_tax: inv.amount,
    test_clock: null,
    total: inv.amount,
    total_discount_amounts: [],
    total_excluding_tax: inv.amount,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: inv.finalizedAt,
  };
}

export function renderCheckoutSession(
  store: StripeStore,
  s: CheckoutSessionRecord,
  baseUrl: string,
): ApiObject {
  const price = store.price(s.priceId);
  const amount = price.unitAmount * s.quantity;
  const complete = s.status === "complete";
  return {
    id: s.id,
    object: "checkout.session",
    adaptive_pricing: null,
    after_expiration: null,
    allow_promotion_codes: null,
    amount_subtotal: amount,
    amount_total: amount,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: s.cancelUrl,
    client_reference_id: s.clientReferenceId,
    client_secret: null,
    collected_information: complete
      ? { business_name: null, individual_name: null, shipping_details: null }
      : null,
    consent: null,
    consent_collection: null,
    created: s.created,
    currency: price.currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: {
      after_submit: null,
      shipping_address: null,
      submit: null,
      terms_of_service_acceptance: null,
    },
    customer: s.customer,
    customer_account: null,
    customer_creation: s.customer ? null : "always",
    customer_details: complete
      ? {
          address: null,
          business_name: null,
          email: s.paidEmail,
          individual_name: null,
          name: null,
          phone: null,
          tax_exempt: "none",
          tax_ids: [],
        }
      : null,
    customer_email: s.customerEmail,
    discounts: [],
    expires_at: s.expiresAt,
    integration_identifier: null,
    invoice: s.invoice,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: { ...s.metadata },
    mode: "subscription",
    optional_items: null,
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: "always",
    payment_method_configuration_details: null,
    payment_method_options: { card: { request_three_d_secure: "automatic" } },
    payment_method_types: ["card"],
    payment_status: s.paymentStatus,
    permissions: null,
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: s.status,
    submit_type: null,
    subscription: s.subscription,
    success_url: s.successUrl,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted",
    url: s.status === "open" ? `${baseUrl}/c/pay/${s.id}` : null,
    wallet_options: null,
  };
}

export function renderCheckoutLineItems(store: StripeStore, s: CheckoutSessionRecord): ApiObject {
  const price = store.price(s.priceId);
  const amount = price.unitAmount * s.quantity;
  return list(
    [
      {
        id: `li_${s.id.slice(-24)}`,
        object: "item",
        amount_discount: 0,
        amount_subtotal: amount,
        amount_tax: 0,
        amount_total: amount,
        currency: price.currency,
        description: price.productName,
        price: renderPrice(price),
        quantity: s.quantity,
      },
    ],
    `/v1/checkout/sessions/${s.id}/line_items`,
  );
}

export function renderPortalSession(p: PortalSessionRecord, baseUrl: string): ApiObject {
  return {
    id: p.id,
    object: "billing_portal.session",
    configuration: p.configuration,
    created: p.created,
    customer: p.customer,
    customer_account: null,
    flow: null,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: p.returnUrl,
    url: `${baseUrl}/p/session/${p.id}`,
  };
}

export function formatAmount(amount: number, currency: string): string {
  return new Intl.NumberFormat("en-US", {
    style: "currency",
    currency: currency.toUpperCase(),
  }).format(amount / 100);
}

/**
 * `data.previous_attributes` of an `*.updated` event: the values that changed, as they were.
 * Nested hashes keep only their changed keys (an added key as null); lists (e.g. `items`) are
 * given whole, as Stripe does.
 */
export function previousAttributes(before: ApiObject, after: ApiObject): ApiObject {
  const out: ApiObject = {};
  // A key that appears only now was absent before: Stripe reports it as null.
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = key in before ? before[key] : null;
    const b = after[key];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const isHash = (v: unknown): v is ApiObject =>
      typeof v === "object" &&
      v !== null &&
      !Array.isArray(v) &&
      (v as ApiObject).object !== "list";
    out[key] = isHash(a) && isHash(b) ? previousAttributes(a, b) : a;
  }
  return out;
}
