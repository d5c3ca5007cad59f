/**
 * `/v1/…`: the slice of Stripe's REST API the portal uses. Every request is authenticated with
 * the secret key (Bearer or Basic), checked against the pinned `Stripe-Version`, and every POST
 * with an `Idempotency-Key` is answered once: a retry with the same parameters gets the saved
 * answer (`Idempotent-Replayed: true`), different parameters get Stripe's `idempotency_error`.
 */
import { applyCancelAtPeriodEnd, type Billing, type EventRequest } from "./billing";
import { StripeApiError, invalidParam, missingParam, noSuch, noSuchParam } from "./errors";
import {
  nowSeconds,
  renderCheckoutLineItems,
  renderCheckoutSession,
  renderCustomer,
  renderPortalSession,
  renderPrice,
  STRIPE_API_VERSION,
  stripeId,
  type ApiObject,
  type CheckoutSessionRecord,
  type StripeStore,
} from "./model";
import {
  allowOnly,
  applyMetadata,
  array,
  bool,
  canonical,
  hash,
  int,
  requiredStr,
  str,
  type Params,
} from "./params";
import type { WebhookDeliverer } from "./webhooks";

export interface ApiRequest {
  method: string;
  path: string;
  params: Params;
  requestId: string;
  idempotencyKey: string | null;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface SavedResult {
  endpoint: string;
  params: string;
  response: ApiResponse;
}

/** Answers `authorization` as Stripe does: no key → 401, a wrong one → 401 naming it masked. */
export function checkAuth(header: string | undefined, secretKey: string): StripeApiError | null {
  let key: string | undefined;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  const basic = /^Basic\s+(\S+)\s*$/i.exec(header ?? "");
  if (bearer) key = bearer[1];
  else if (basic)
    key = Buffer.from(basic[1] ?? "", "base64")
      .toString("utf8")
      .split(":")[0];
  if (!key)
    return new StripeApiError(
      401,
      "invalid_request_error",
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    );
  if (key === secretKey) return null;
  if (key.startsWith("pk_"))
    return new StripeApiError(
      401,
      "invalid_request_error",
      "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.",
    );
  const masked =
    key.length > 12 ? `${key.slice(0, 8)}${"*".repeat(key.length - 12)}${key.slice(-4)}` : "****";
  return new StripeApiError(
    401,
    "invalid_request_error",
    `Invalid API Key provided: ${masked}`,
    "api_key_invalid",
  );
}

/** `Stripe-Version`: absent means the account default (the pinned one); any other is refused. */
export function checkVersion(header: string | undefined): StripeApiError | null {
  if (header === undefined || header === STRIPE_API_VERSION) return null;
  if (!/^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/.test(header))
    return new StripeApiError(
      400,
      "invalid_request_error",
      `Invalid Stripe API version: ${header}`,
    );
  return new StripeApiError(
    400,
    "invalid_request_error",
    `This Stripe stand-in speaks only API version ${STRIPE_API_VERSION} (the version stripe-node pins); the request asked for ${header}.`,
  );
}

export class StripeApi {
  private readonly idempotent = new Map<string, SavedResult>();

  constructor(
    private readonly store: StripeStore,
    private readonly billing: Billing,
    private readonly webhooks: WebhookDeliverer,
    private readonly baseUrl: () => string,
  ) {}

  /** Runs one request through the idempotency layer. */
  handle(req: ApiRequest): ApiResponse {
    const key = req.method === "POST" ? req.idempotencyKey : null;
    const endpoint = `${req.method} ${req.path}`;
    const params = canonical(req.params);
    if (key) {
      const saved = this.idempotent.get(key);
      if (saved) {
        if (saved.endpoint !== endpoint)
          return errorResponse(
            new StripeApiError(
              400,
              "idempotency_error",
              `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${saved.endpoint}' vs '${endpoint}'). Try using a key other than '${key}' if you meant to execute a different request.`,
            ),
          );
        if (saved.params !== params)
          return errorResponse(
            new StripeApiError(
              400,
              "idempotency_error",
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            ),
          );
        return {
          ...saved.response,
          headers: { ...saved.response.headers, "idempotent-replayed": "true" },
        };
      }
    }
    let response: ApiResponse;
    try {
      response = { status: 200, body: this.route(req) };
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      response = errorResponse(error);
    }
    // Stripe saves a result once the endpoint started executing; a request refused by
    // validation (400) is not saved, so a corrected retry with the same key may run.
    if (key && (response.status < 400 || response.status === 402 || response.status === 404))
      this.idempotent.set(key, { endpoint, params, response });
    return key
      ? { ...response, headers: { ...response.headers, "idempotency-key": key } }
      : response;
  }

  private route(req: ApiRequest): unknown {
    const { method, path, params } = req;
    const request: EventRequest = { id: req.requestId, idempotency_key: req.idempotencyKey };
    const seg = path.split("/").slice(2); // ["customers", "cus_…"]
    const [a, b, c, d] = seg;
    let result: unknown;
    if (a === "customers" && seg.length === 1 && method === "POST")
      result = this.createCustomer(params, request);
    else if (a === "customers" && seg.length === 1 && method === "GET")
      result = this.listCustomers(params);
    else if (a === "customers" && seg.length === 2 && method === "GET")
      result = this.getCustomer(b!);
    else if (a === "customers" && seg.length === 2 && method === "POST")
      result = this.updateCustomer(b!, params, request);
    else if (a === "prices" && seg.length === 1 && method === "GET")
      result = this.listPrices(params);
    else if (a === "prices" && seg.length === 2 && method === "GET") result = this.getPrice(b!);
    else if (a === "products" && seg.length === 2 && method === "GET") result = this.getProduct(b!);
    else if (a === "checkout" && b === "sessions" && seg.length === 2 && method === "POST")
      result = this.createCheckoutSession(params);
    else if (a === "checkout" && b === "sessions" && seg.length === 2 && method === "GET")
      result = this.listCheckoutSessions(params);
    else if (a === "checkout" && b === "sessions" && seg.length === 3 && method === "GET")
      result = this.renderSession(this.session(c!));
    else if (
      a === "checkout" &&
      b === "sessions" &&
      seg.length === 4 &&
      d === "line_items" &&
      method === "GET"
    )
      result = renderCheckoutLineItems(this.store, this.session(c!));
    else if (
      a === "checkout" &&
      b === "sessions" &&
      seg.length === 4 &&
      d === "expire" &&
      method === "POST"
    )
      result = this.expireSession(c!);
    else if (a === "subscriptions" && seg.length === 1 && method === "GET")
      result = this.listSubscriptions(params);
    else if (a === "subscriptions" && seg.length === 2 && method === "GET")
      result = this.billing.renderSub(this.billing.subscription(b!));
    else if (a === "subscriptions" && seg.length === 2 && method === "POST")
      result = this.updateSubscription(b!, params, request);
    else if (a === "subscriptions" && seg.length === 2 && method === "DELETE")
      result = this.cancelSubscription(b!, params, request);
    else if (a === "invoices" && seg.length === 1 && method === "GET")
      result = this.listInvoices(params);
    else if (a === "invoices" && seg.length === 2 && method === "GET")
      result = this.billing.renderInv(this.invoice(b!));
    else if (a === "billing_portal" && b === "sessions" && seg.length === 2 && method === "POST")
      result = this.createPortalSession(params);
    else if (a === "events" && seg.length === 1 && method === "GET")
      result = this.listEvents(params);
    else if (a === "events" && seg.length === 2 && method === "GET") result = this.getEvent(b!);
    else
      throw new StripeApiError(
        404,
        "invalid_request_error",
        `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
      );
    return this.expand(result, params.expand);
  }

  // — customers —

  private createCustomer(params: Params, request: EventRequest): ApiObject {
    allowOnly(params, ["email", "name", "description", "metadata", "phone", "preferred_locales"]);
    const c = this.billing.createCustomer(
      {
        email: str(params, "email") || null,
        name: str(params, "name") || null,
        description: str(params, "description") || null,
        metadata: applyMetadata({}, params),
      },
      request,
    );
    return renderCustomer(c);
  }

  private getCustomer(id: string): ApiObject {
    const c = this.store.customers.get(id);
    if (!c) throw noSuch("customer", id);
    return renderCustomer(c);
  }

  private updateCustomer(id: string, params: Params, request: EventRequest): ApiObject {
    const c = this.store.customers.get(id);
    if (!c) throw noSuch("customer", id);
    allowOnly(params, ["email", "name", "description", "metadata", "phone", "preferred_locales"]);
    const metadata = applyMetadata(c.metadata, params);
    this.billing.updateCustomer(
      c,
      (x) => {
        if (params.email !== undefined) x.email = str(params, "email") || null;
        if (params.name !== undefined) x.name = str(params, "name") || null;
        if (params.description !== undefined) x.description = str(params, "description") || null;
        x.metadata = metadata;
      },
      request,
    );
    return renderCustomer(c);
  }

  private listCustomers(params: Params): ApiObject {
    allowOnly(params, [
      "email",
      "limit",
      "starting_after",
      "ending_before",
      "created",
      "test_clock",
    ]);
    const email = str(params, "email");
    const all = [...this.store.customers.values()].filter(
      (c) => email === undefined || c.email === email,
    );
    return this.page(all, params, "/v1/customers", renderCustomer);
  }

  // — prices and products —

  private getPrice(id: string): ApiObject {
    const p = this.store.prices.get(id);
    if (!p) throw noSuch("price", id);
    return renderPrice(p);
  }

  private listPrices(params: Params): ApiObject {
    allowOnly(params, [
      "active",
      "limit",
      "starting_after",
      "ending_before",
      "product",
      "lookup_keys",
      "type",
      "currency",
    ]);
    const product = str(params, "product");
    const keys =
      params.lookup_keys === undefined ? undefined : Object.values(params.lookup_keys as object);
    const all = [...this.store.prices.values()].filter(
      (p) =>
        (product === undefined || p.productId === product) &&
        (keys === undefined || (p.lookupKey !== null && keys.includes(p.lookupKey))),
    );
    return this.page(all, params, "/v1/prices", renderPrice);
  }

  private getProduct(id: string): ApiObject {
    const p = [...this.store.prices.values()].find((x) => x.productId === id);
    if (!p) throw noSuch("product", id);
    return {
      id,
      object: "product",
      active: true,
      created: p.created,
      default_price: p.id,
      description: null,
      images: [],
      livemode: false,
      marketing_features: [],
      metadata: {},
      name: p.productName,
      package_dimensions: null,
      shippable: null,
      statement_descriptor: null,
      tax_code: null,
      type: "service",
      unit_label: null,
      updated: p.created,
      url: null,
    };
  }

  // — checkout —

  private session(id: string): CheckoutSessionRecord {
    const s = this.store.sessions.get(id);
    if (!s) throw noSuch("checkout.session", id);
    return s;
  }

  private renderSession(s: CheckoutSessionRecord): ApiObject {
    return renderCheckoutSession(this.store, s, this.baseUrl());
  }

  private createCheckoutSession(params: Params): ApiObject {
    allowOnly(params, [
      "mode",
      "line_items",
      "customer",
      "customer_email",
      "client_reference_id",
      "metadata",
      "subscription_data",
      "success_url",
      "cancel_url",
      "allow_promotion_codes",
      "billing_address_collection",
      "locale",
      "customer_update",
      "expires_at",
      "payment_method_collection",
      "ui_mode",
    ]);
    const mode = requiredStr(params, "mode");
    if (mode !== "subscription")
      throw invalidParam(
        "mode",
        `The Stripe stand-in models Checkout in subscription mode only (got mode=${mode}).`,
      );
    const uiMode = str(params, "ui_mode");
    if (uiMode !== undefined && uiMode !== "hosted")
      throw invalidParam("ui_mode", "The Stripe stand-in models the hosted Checkout page only.");
    const items = array(params, "line_items");
    if (!items || items.length === 0) throw missingParam("line_items");
    if (items.length > 1)
      throw invalidParam("line_items", "The Stripe stand-in models one line item per session.");
    const item = items[0]!;
    allowOnly(item, ["price", "quantity"], "line_items[0]");
    const priceId = requiredStr(item, "price", "line_items[0][price]");
    if (!this.store.prices.has(priceId))
      throw noSuchParam("price", priceId, "line_items[0][price]");
    const quantity = item.quantity === undefined ? 1 : Number(item.quantity);
    if (!Number.isInteger(quantity) || quantity < 1)
      throw invalidParam("line_items[0][quantity]", "Invalid integer: quantity");
    const customer = str(params, "customer");
    const customerEmail = str(params, "customer_email");
    if (customer && customerEmail)
      throw invalidParam(
        "customer_email",
        "You may only specify one of these parameters: customer, customer_email.",
      );
    if (customer && !this.store.customers.has(customer))
      throw noSuchParam("customer", customer, "customer");
    const subscriptionData = hash(params, "subscription_data") ?? {};
    allowOnly(
      subscriptionData,
      ["metadata", "description", "trial_period_days", "proration_behavior"],
      "subscription_data",
    );
    if (subscriptionData.trial_period_days !== undefined)
      throw invalidParam(
        "subscription_data[trial_period_days]",
        "The Stripe stand-in does not model trials.",
      );
    const successUrl = str(params, "success_url");
    const cancelUrl = str(params, "cancel_url");
    for (const [name, value] of [
      ["success_url", successUrl],
      ["cancel_url", cancelUrl],
    ] as const)
      if (value !== undefined && !/^https?:\/\/[^\s]+$/i.test(value))
        throw invalidParam(name, "Not a valid URL", "url_invalid");
    const clientReferenceId = str(params, "client_reference_id");
    if (clientReferenceId !== undefined && clientReferenceId.length > 200)
      throw invalidParam(
        "client_reference_id",
        "client_reference_id can have up to 200 characters.",
      );
    const now = nowSeconds();
    const expiresAt = int(params, "expires_at") ?? now + 24 * 3600;
    const s: CheckoutSessionRecord = {
      id: stripeId("cs_test_a1", 58),
      created: now,
      expiresAt,
      status: "open",
      paymentStatus: "unpaid",
      customer: customer ?? null,
      customerEmail: customerEmail ?? null,
      paidEmail: null,
      clientReferenceId: clientReferenceId ?? null,
      metadata: applyMetadata({}, params),
      subscriptionMetadata: applyMetadata({}, subscriptionData),
      subscriptionDescription: str(subscriptionData, "description") ?? null,
      priceId,
      quantity,
      successUrl: successUrl ?? null,
      cancelUrl: cancelUrl ?? null,
      subscription: null,
      invoice: null,
    };
    this.store.sessions.set(s.id, s);
    return this.renderSession(s);
  }

  private expireSession(id: string): ApiObject {
    const s = this.session(id);
    if (s.status !== "open")
      throw new StripeApiError(
        400,
        "invalid_request_error",
        `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${s.status}".`,
      );
    s.status = "expired";
    const rendered = this.renderSession(s);
    this.webhooks.emit("checkout.session.expired", rendered);
    return rendered;
  }

  private listCheckoutSessions(params: Params): ApiObject {
    allowOnly(params, [
      "customer",
      "subscription",
      "status",
      "limit",
      "starting_after",
      "ending_before",
    ]);
    const customer = str(params, "customer");
    const subscription = str(params, "subscription");
    const status = str(params, "status");
    const all = [...this.store.sessions.values()].filter(
      (s) =>
        (customer === undefined || s.customer === customer) &&
        (subscription === undefined || s.subscription === subscription) &&
        (status === undefined || s.status === status),
    );
    return this.page(all, params, "/v1/checkout/sessions", (s) => this.renderSession(s));
  }

  // — subscriptions —

  private listSubscriptions(params: Params): ApiObject {
    allowOnly(params, [
      "customer",
      "price",
      "status",
      "limit",
      "starting_after",
      "ending_before",
      "created",
    ]);
    const customer = str(params, "customer");
    const price = str(params, "price");
    const status = str(params, "status");
    const all = [...this.store.subscriptions.values()].filter(
      (s) =>
        (customer === undefined || s.customer === customer) &&
        (price === undefined || s.priceId === price) &&
        // Stripe lists every status but canceled unless asked (`all`, `ended`, or one status).
        (status === "all" ||
          (status === "ended" && (s.status === "canceled" || s.status === "incomplete_expired")) ||
          (status === undefined ? s.status !== "canceled" : s.status === status)),
    );
    return this.page(all, params, "/v1/subscriptions", (s) => this.billing.renderSub(s));
  }

  private updateSubscription(id: string, params: Params, request: EventRequest): ApiObject {
    const sub = this.billing.subscription(id);
    allowOnly(params, [
      "cancel_at_period_end",
      "metadata",
      "description",
      "cancellation_details",
      "proration_behavior",
    ]);
    if (
      sub.status === "canceled" &&
      Object.keys(params).some((k) => !["metadata", "cancellation_details", "expand"].includes(k))
    )
      throw new StripeApiError(
        400,
        "invalid_request_error",
        "A canceled subscription can only update its cancellation_details and metadata.",
      );
    const cancel = bool(params, "cancel_at_period_end");
    const metadata = applyMetadata(sub.metadata, params);
    const description =
      params.description === undefined ? sub.description : str(params, "description") || null;
    // One request, one `customer.subscription.updated` however many fields it changes.
    this.billing.updateSubscription(
      sub,
      (s) => {
        if (cancel !== undefined) applyCancelAtPeriodEnd(s, cancel);
        s.metadata = metadata;
        s.description = description;
      },
      request,
    );
    return this.billing.renderSub(sub);
  }

  private cancelSubscription(id: string, params: Params, request: EventRequest): ApiObject {
    const sub = this.billing.subscription(id);
    allowOnly(params, ["invoice_now", "prorate", "cancellation_details"]);
    this.billing.cancelNow(sub, "cancellation_requested", request);
    return this.billing.renderSub(sub);
  }

  // — invoices —

  private invoice(id: string) {
    const i = this.store.invoices.get(id);
    if (!i) throw noSuch("invoice", id);
    return i;
  }

  private listInvoices(params: Params): ApiObject {
    allowOnly(params, [
      "customer",
      "subscription",
      "status",
      "limit",
      "starting_after",
      "ending_before",
      "created",
      "collection_method",
    ]);
    const customer = str(params, "customer");
    const subscription = str(params, "subscription");
    const status = str(params, "status");
    const all = [...this.store.invoices.values()].filter(
      (i) =>
        (customer === undefined || i.customer === customer) &&
        (subscription === undefined || i.subscription === subscription) &&
        (status === undefined || i.status === status),
    );
    return this.page(all, params, "/v1/invoices", (i) => this.billing.renderInv(i));
  }

  // — billing portal —

  private createPortalSession(params: Params): ApiObject {
    allowOnly(params, [
      "customer",
      "return_url",
      "configuration",
      "locale",
      "flow_data",
      "on_behalf_of",
    ]);
    const customer = requiredStr(params, "customer");
    if (!this.store.customers.has(customer)) throw noSuchParam("customer", customer, "customer");
    if (params.flow_data !== undefined)
      throw invalidParam("flow_data", "The Stripe stand-in does not model portal flows.");
    const returnUrl = str(params, "return_url");
    if (returnUrl !== undefined && !/^https?:\/\/[^\s]+$/i.test(returnUrl))
      throw invalidParam("return_url", "Not a valid URL", "url_invalid");
    const p = {
      id: stripeId("bps_1"),
      created: nowSeconds(),
      customer,
      returnUrl: returnUrl ?? null,
      configuration: this.store.portalConfiguration,
    };
    this.store.portalSessions.set(p.id, p);
    return renderPortalSession(p, this.baseUrl());
  }

  // — events —

  private getEvent(id: string): ApiObject {
    const e = this.webhooks.event(id);
    if (!e) throw noSuch("event", id);
    return e as unknown as ApiObject;
  }

  private listEvents(params: Params): ApiObject {
    allowOnly(params, [
      "type",
      "types",
      "limit",
      "starting_after",
      "ending_before",
      "created",
      "delivery_success",
    ]);
    const type = str(params, "type");
    const all = this.webhooks
      .allEvents()
      .filter(
        (e) =>
          type === undefined ||
          e.type === type ||
          (type.endsWith(".*") && e.type.startsWith(type.slice(0, -1))),
      );
    return this.page(all, params, "/v1/events", (e) => e as unknown as ApiObject);
  }

  // — shared —

  /** A list page, newest first, with `limit` (1–100, default 10) and cursors. */
  private page<T extends { id: string }>(
    oldestFirst: T[],
    params: Params,
    url: string,
    render: (item: T) => unknown,
  ): ApiObject {
    const limit = int(params, "limit") ?? 10;
    if (limit < 1 || limit > 100)
      throw invalidParam(
        "limit",
        "This value must be greater than or equal to 1 and less than or equal to 100.",
      );
    let items = [...oldestFirst].reverse();
    const after = str(params, "starting_after");
    const before = str(params, "ending_before");
    if (after !== undefined) {
      const i = items.findIndex((x) => x.id === after);
      if (i < 0) throw noSuchParam("object", after, "starting_after");
      items = items.slice(i + 1);
    } else if (before !== undefined) {
      const i = items.findIndex((x) => x.id === before);
      if (i < 0) throw noSuchParam("object", before, "ending_before");
      items = items.slice(Math.max(0, i - limit), i);
    }
    return {
      object: "list",
      data: items.slice(0, limit).map(render),
      has_more: items.length > limit,
      url,
    };
  }

  /** `expand[]`: ids at the given (dotted) paths become their objects; `data.` walks lists. */
  private expand(result: unknown, expand: unknown): unknown {
    if (expand === undefined) return result;
    const paths = Array.isArray(expand)
      ? expand
      : typeof expand === "object" && expand
        ? Object.values(expand)
        : [expand];
    for (const path of paths) {
      if (typeof path !== "string") throw invalidParam("expand", "Invalid array");
      this.expandPath(result, path.split("."), path);
    }
    return result;
  }

  private expandPath(target: unknown, path: string[], full: string): void {
    if (typeof target !== "object" || target === null) return;
    const obj = target as ApiObject;
    const [head, ...rest] = path;
    if (!head) return;
    if (head === "data" && obj.object === "list" && Array.isArray(obj.data)) {
      for (const item of obj.data) this.expandPath(item, rest, full);
      return;
    }
    if (rest.length > 0) return this.expandPath(obj[head], rest, full);
    if (head === "line_items" && obj.object === "checkout.session") {
      obj.line_items = renderCheckoutLineItems(this.store, this.session(String(obj.id)));
      return;
    }
    const value = obj[head];
    if (value === null) return;
    if (typeof value !== "string")
      throw invalidParam("expand", `This property cannot be expanded (${full}).`);
    obj[head] = this.lookup(value, full);
  }

  private lookup(id: string, full: string): unknown {
    if (id.startsWith("cus_")) return this.getCustomer(id);
    if (id.startsWith("sub_")) return this.billing.renderSub(this.billing.subscription(id));
    if (id.startsWith("in_")) return this.billing.renderInv(this.invoice(id));
    if (id.startsWith("price_")) return this.getPrice(id);
    if (id.startsWith("prod_")) return this.getProduct(id);
    if (id.startsWith("cs_")) return this.renderSession(this.session(id));
    throw invalidParam("expand", `This property cannot be expanded (${full}).`);
  }
}

export function errorResponse(error: StripeApiError): ApiResponse {
  return { status: error.status, body: error.body() };
}
