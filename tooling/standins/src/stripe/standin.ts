/**
 * Stripe stand-in: a real HTTP server on 127.0.0.1 that the unmodified `stripe` npm package
 * talks to (`new Stripe(key, { host, port, protocol: "http" })`), with Stripe's hosted Checkout
 * and Billing Portal pages, signed webhook deliveries with retries, and a control surface under
 * `/_standin/` that no real Stripe has. What it models and leaves out: docs/stand-ins.md.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { checkAuth, checkVersion, errorResponse, StripeApi, type ApiResponse } from "./api";
import { Billing } from "./billing";
import { StripeApiError } from "./errors";
import { BodyTooLargeError, readBody, redirect, sendHtml, sendJson, wantsHtml } from "./http";
import {
  formatAmount,
  nowSeconds,
  renderCheckoutSession,
  STRIPE_API_VERSION,
  stripeId,
  StripeStore,
  type ApiObject,
  type Interval,
  type PriceRecord,
} from "./model";
import { checkoutPage, controlPage, messagePage, portalPage } from "./pages";
import { parseParams, type Params } from "./params";
import {
  WebhookDeliverer,
  type DeliveryRecord,
  type HoldMatch,
  type StripeEvent,
  type WebhookEndpointConfig,
} from "./webhooks";

export interface StripeStandinOptions {
  /** 0 (default) = any free port. */
  port?: number;
  /** Default `sk_test_` + random. */
  secretKey?: string;
  /** The signing secret of every endpoint that does not bring its own; default `whsec_` + random. */
  webhookSecret?: string;
  webhookEndpoints?: (string | WebhookEndpointConfig)[];
  /** The seeded pro price (default `price_standin_pro`, $5.00 a month, product "irc.now pro"). */
  proPrice?: {
    id?: string;
    unitAmount?: number;
    currency?: string;
    interval?: Interval;
    productName?: string;
  };
  /** The business name on the hosted pages and invoices (default "irc.now"). */
  accountName?: string;
  /** Waits before retries 1, 2, … of a failed delivery (default 5 s, 30 s, 5 min). */
  retryDelaysMs?: number[];
  /** How long a delivery waits for the endpoint's answer (default 10 s). */
  webhookTimeoutMs?: number;
  log?: (line: string) => void;
}

/** The control surface, the same as `/_standin/…` (stand-in only). */
export interface StripeStandinControl {
  /** The period ends: next period paid (`updated`, `invoice.paid`), or the scheduled end (`deleted`). */
  renew(subscriptionId: string): StripeEvent[];
  /** The renewal charge fails: `updated` (period), `invoice.payment_failed`, `updated` (past_due). */
  failPayment(subscriptionId: string): StripeEvent[];
  /** A retry of the open invoice succeeds: `invoice.paid`, `updated` (active). */
  payOpenInvoice(subscriptionId: string): StripeEvent[];
  /** `past_due` → `unpaid`. */
  markUnpaid(subscriptionId: string): StripeEvent[];
  /**
   * Toggles cancel_at_period_end (an `updated` that is held back), cancels now (`deleted`,
   * delivered), then delivers the held `updated`: the portal gets it after the `deleted`.
   */
  outOfOrderCancel(subscriptionId: string): StripeEvent[];
  hold(match: HoldMatch): void;
  /** Delivers held events (in the order they were held) and stops holding. */
  release(): string[];
  duplicate(eventId: string, times?: number, concurrent?: boolean): Promise<DeliveryRecord[]>;
  resend(eventId: string, staleSeconds?: number): Promise<DeliveryRecord[]>;
}

export interface StripeStandin {
  /** `http://127.0.0.1:<port>`; stripe-node: `{ host: "127.0.0.1", port, protocol: "http" }`. */
  url: string;
  host: string;
  port: number;
  apiVersion: string;
  secretKey: string;
  webhookSecret: string;
  proPriceId: string;
  addWebhookEndpoint(endpoint: string | WebhookEndpointConfig): void;
  webhookEndpoints(): string[];
  /** Every event, oldest first. */
  events(): StripeEvent[];
  /** The delivery log, oldest first. */
  deliveries(): DeliveryRecord[];
  /** Resolves when no delivery is in flight or waiting to be retried. */
  idle(): Promise<void>;
  /** A subscription as the API renders it. */
  subscription(id: string): ApiObject;
  control: StripeStandinControl;
  stop(): Promise<void>;
}

const PORTAL_MESSAGES: Record<string, string> = {
  cancel_at_period_end: "Your subscription will be canceled at the end of the billing period.",
  cancel_now: "Your subscription has been canceled.",
  resume: "Your subscription has been resumed.",
};

export async function startStripeStandin(
  options: StripeStandinOptions = {},
): Promise<StripeStandin> {
  const log = options.log ?? (() => undefined);
  const secretKey = options.secretKey ?? `sk_test_${randomBytes(18).toString("base64url")}`;
  const webhookSecret = options.webhookSecret ?? `whsec_${randomBytes(24).toString("base64")}`;
  const accountName = options.accountName ?? "irc.now";
  let url = "";
  const baseUrl = () => url;

  const store = new StripeStore(accountName);
  const pro: PriceRecord = {
    id: options.proPrice?.id ?? "price_standin_pro",
    productId: "prod_StandinPro001",
    productName: options.proPrice?.productName ?? "irc.now pro",
    unitAmount: options.proPrice?.unitAmount ?? 500,
    currency: options.proPrice?.currency ?? "usd",
    interval: options.proPrice?.interval ?? "month",
    intervalCount: 1,
    created: nowSeconds(),
    lookupKey: "pro",
    nickname: "pro",
  };
  store.prices.set(pro.id, pro);

  const webhooks = new WebhookDeliverer({
    secret: webhookSecret,
    endpoints: (options.webhookEndpoints ?? []).map((e) =>
      typeof e === "string" ? { url: e } : e,
    ),
    retryDelaysMs: options.retryDelaysMs ?? [5_000, 30_000, 300_000],
    timeoutMs: options.webhookTimeoutMs ?? 10_000,
    log,
  });
  const billing = new Billing(store, webhooks, baseUrl);
  const api = new StripeApi(store, billing, webhooks, baseUrl);

  /** Runs a change and answers the events it sent. */
  const emitted = (change: () => void): StripeEvent[] => {
    const before = webhooks.allEvents().length;
    change();
    return webhooks.allEvents().slice(before);
  };

  const control: StripeStandinControl = {
    renew: (id) => emitted(() => billing.renew(billing.subscription(id))),
    failPayment: (id) => emitted(() => billing.failPayment(billing.subscription(id))),
    payOpenInvoice: (id) => emitted(() => billing.payOpenInvoice(billing.subscription(id))),
    markUnpaid: (id) => emitted(() => billing.markUnpaid(billing.subscription(id))),
    outOfOrderCancel: (id) =>
      emitted(() => {
        const sub = billing.subscription(id);
        if (sub.status === "canceled")
          throw new StripeApiError(400, "invalid_request_error", `${id} is already canceled.`);
        webhooks.hold({ type: "customer.subscription.updated", objectId: id });
        try {
          billing.setCancelAtPeriodEnd(sub, !sub.cancelAtPeriodEnd);
          billing.cancelNow(sub);
        } finally {
          webhooks.release();
        }
      }),
    hold: (match) => webhooks.hold(match),
    release: () => webhooks.release(),
    duplicate: (eventId, times = 1, concurrent = false) =>
      webhooks.duplicate(eventId, times, concurrent),
    resend: (eventId, staleSeconds = 0) => webhooks.resend(eventId, staleSeconds),
  };

  async function handleApi(req: IncomingMessage, res: ServerResponse, target: URL) {
    const requestId = stripeId("req_", 14);
    const headers = { "request-id": requestId, "stripe-version": STRIPE_API_VERSION };
    const answer = (r: ApiResponse) =>
      sendJson(res, r.status, r.body, { ...headers, ...r.headers });
    const body = await readBody(req);
    const refusal =
      checkAuth(req.headers.authorization, secretKey) ??
      checkVersion(req.headers["stripe-version"] as string | undefined);
    if (refusal) return answer(errorResponse(refusal));
    const method = req.method ?? "GET";
    let params: Params;
    if (method === "POST") {
      const type = req.headers["content-type"] ?? "";
      if (body && !type.startsWith("application/x-www-form-urlencoded"))
        return answer(
          errorResponse(
            new StripeApiError(
              400,
              "invalid_request_error",
              "Invalid request: the body must be application/x-www-form-urlencoded.",
            ),
          ),
        );
      params = parseParams(body);
    } else params = parseParams(target.search.slice(1));
    const key = req.headers["idempotency-key"];
    answer(
      api.handle({
        method,
        path: target.pathname.replace(/\/+$/, ""),
        params,
        requestId,
        idempotencyKey: typeof key === "string" && key ? key : null,
      }),
    );
  }

  async function handleCheckout(req: IncomingMessage, res: ServerResponse, id: string) {
    const session = store.sessions.get(id);
    if (!session)
      return sendHtml(
        res,
        404,
        messagePage("Something went wrong", "This page could not be found."),
      );
    if (session.status === "open" && nowSeconds() > session.expiresAt) {
      session.status = "expired";
      webhooks.emit("checkout.session.expired", renderCheckoutSession(store, session, url));
    }
    const successUrl = session.successUrl?.replaceAll("{CHECKOUT_SESSION_ID}", session.id) ?? null;
    const cancelUrl = session.cancelUrl;
    if (session.status === "complete")
      return sendHtml(
        res,
        200,
        messagePage(
          "Thanks for subscribing",
          "This Checkout Session is complete.",
          successUrl ? { href: successUrl, text: `Return to ${accountName}` } : undefined,
        ),
      );
    if (session.status === "expired")
      return sendHtml(
        res,
        410,
        messagePage(
          "This page has expired",
          "This Checkout Session is no longer active.",
          cancelUrl ? { href: cancelUrl, text: `Return to ${accountName}` } : undefined,
        ),
      );
    const price = store.price(session.priceId);
    const customerEmail = session.customer
      ? (store.customers.get(session.customer)?.email ?? null)
      : session.customerEmail;
    const page = {
      merchant: accountName,
      action: `/c/pay/${session.id}`,
      product: price.productName,
      amount: formatAmount(price.unitAmount * session.quantity, price.currency),
      interval: price.interval,
      fixedEmail: customerEmail,
      cancelUrl,
    };
    if (req.method !== "POST") return sendHtml(res, 200, checkoutPage(page));
    const form = new URLSearchParams(await readBody(req));
    const email = form.get("email")?.trim() || null;
    const card = form.get("cardNumber") ?? "";
    const result = billing.payCheckout(session, email, card);
    if (!result.ok)
      return sendHtml(
        res,
        200,
        checkoutPage({
          ...page,
          email: email ?? "",
          cardNumber: card,
          error: { field: result.field, message: result.message },
        }),
      );
    log(`checkout ${session.id} paid → ${session.subscription}`);
    if (successUrl) return redirect(res, successUrl);
    sendHtml(res, 200, messagePage("Thanks for subscribing", "Your subscription is active."));
  }

  async function handlePortal(req: IncomingMessage, res: ServerResponse, id: string, target: URL) {
    const session = store.portalSessions.get(id);
    if (!session)
      return sendHtml(
        res,
        404,
        messagePage("Something went wrong", "This page could not be found."),
      );
    const customer = store.customer(session.customer);
    if (req.method === "POST") {
      const form = new URLSearchParams(await readBody(req));
      const action = form.get("action") ?? "";
      const sub = store.subscriptions.get(form.get("subscription") ?? "");
      if (!sub || sub.customer !== customer.id || !(action in PORTAL_MESSAGES))
        return sendHtml(
          res,
          400,
          messagePage("Something went wrong", "That action is not available."),
        );
      try {
        if (action === "cancel_now") billing.cancelNow(sub);
        else billing.setCancelAtPeriodEnd(sub, action === "cancel_at_period_end");
      } catch (error) {
        if (!(error instanceof StripeApiError)) throw error;
        return sendHtml(res, 409, messagePage("Something went wrong", error.message));
      }
      return redirect(res, `/p/session/${session.id}?done=${action}`);
    }
    const subscriptions = [...store.subscriptions.values()]
      .filter((s) => s.customer === customer.id)
      .reverse()
      .map((s) => {
        const price = store.price(s.priceId);
        return {
          id: s.id,
          product: price.productName,
          amount: formatAmount(price.unitAmount * s.quantity, price.currency),
          interval: price.interval,
          status: s.status,
          cancelAtPeriodEnd: s.cancelAtPeriodEnd,
          periodEnd: s.periodEnd,
          endedAt: s.endedAt,
        };
      });
    sendHtml(
      res,
      200,
      portalPage({
        merchant: accountName,
        action: `/p/session/${session.id}`,
        email: customer.email,
        subscriptions,
        returnUrl: session.returnUrl,
        message: PORTAL_MESSAGES[target.searchParams.get("done") ?? ""],
      }),
    );
  }

  async function handleControl(req: IncomingMessage, res: ServerResponse, target: URL) {
    const path = target.pathname.replace(/\/+$/, "");
    const method = req.method ?? "GET";
    if (method === "GET" && (path === "/_standin" || path === "/_standin/control")) {
      return sendHtml(
        res,
        200,
        controlPage({
          subscriptions: [...store.subscriptions.values()].map((s) => ({
            id: s.id,
            customerEmail: store.customers.get(s.customer)?.email ?? null,
            status: s.status,
            cancelAtPeriodEnd: s.cancelAtPeriodEnd,
            periodEnd: s.periodEnd,
          })),
          events: webhooks.allEvents(),
          deliveries: webhooks.deliveries(),
          endpoints: webhooks.endpointUrls(),
          held: webhooks.heldEventIds(),
          message: target.searchParams.get("message") ?? undefined,
        }),
      );
    }
    if (method === "GET" && path === "/_standin/deliveries") {
      const event = target.searchParams.get("event");
      return sendJson(
        res,
        200,
        webhooks.deliveries().filter((d) => !event || d.eventId === event),
      );
    }
    if (method === "GET" && path === "/_standin/events")
      return sendJson(res, 200, webhooks.allEvents());
    if (method !== "POST") return sendJson(res, 404, { error: "no such stand-in endpoint" });
    const raw = await readBody(req);
    const input: Record<string, string> = Object.fromEntries(target.searchParams);
    if ((req.headers["content-type"] ?? "").startsWith("application/json") && raw) {
      try {
        Object.assign(input, JSON.parse(raw) as Record<string, string>);
      } catch {
        return sendJson(res, 400, { error: "the body is not JSON" });
      }
    } else Object.assign(input, Object.fromEntries(new URLSearchParams(raw)));
    const done = (message: string, body: unknown) =>
      wantsHtml(req)
        ? redirect(res, `/_standin?message=${encodeURIComponent(message)}`)
        : sendJson(res, 200, body);
    const events = (list: StripeEvent[]) => list.map((e) => ({ id: e.id, type: e.type }));
    try {
      const sub = /^\/_standin\/subscriptions\/([^/]+)\/([a-z-]+)$/.exec(path);
      if (sub) {
        const [, id, action] = sub as unknown as [string, string, string];
        const actions: Record<string, (id: string) => StripeEvent[]> = {
          renew: control.renew,
          "fail-payment": control.failPayment,
          pay: control.payOpenInvoice,
          "mark-unpaid": control.markUnpaid,
          "out-of-order-cancel": control.outOfOrderCancel,
        };
        const run = actions[action];
        if (!run) return sendJson(res, 404, { error: `no such action: ${action}` });
        const sent = run(id);
        return done(`${action} ${id}: ${sent.map((e) => e.type).join(", ") || "no events"}`, {
          subscription: billing.renderSub(billing.subscription(id)),
          events: events(sent),
        });
      }
      const ev = /^\/_standin\/events\/([^/]+)\/(duplicate|resend)$/.exec(path);
      if (ev) {
        const [, id, action] = ev as unknown as [string, string, string];
        if (!webhooks.event(id)) return sendJson(res, 404, { error: `no such event: ${id}` });
        const deliveries =
          action === "duplicate"
            ? await control.duplicate(
                id,
                Math.max(1, Number(input.times ?? 1) || 1),
                input.concurrent === "true",
              )
            : await control.resend(id, Math.max(0, Number(input.stale_seconds ?? 0) || 0));
        return done(`${action} ${id}: ${deliveries.map((d) => d.status ?? d.error).join(", ")}`, {
          deliveries,
        });
      }
      if (path === "/_standin/hold") {
        control.hold({ type: input.type || undefined, objectId: input.object_id || undefined });
        return done(`holding ${input.type ?? "every event"}`, { holding: true });
      }
      if (path === "/_standin/release") {
        const released = control.release();
        return done(`released ${released.length} event(s)`, { released });
      }
      if (path === "/_standin/webhook-endpoints") {
        if (!/^https?:\/\/\S+$/.test(input.url ?? ""))
          return sendJson(res, 400, { error: "url must be an http(s) URL" });
        webhooks.addEndpoint({ url: input.url! });
        return done(`added ${input.url}`, { endpoints: webhooks.endpointUrls() });
      }
      return sendJson(res, 404, { error: "no such stand-in endpoint" });
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      if (wantsHtml(req))
        return redirect(res, `/_standin?message=${encodeURIComponent(error.message)}`);
      return sendJson(res, error.status, error.body());
    }
  }

  const server = createServer((req, res) => {
    const target = new URL(req.url ?? "/", url || "http://127.0.0.1");
    const path = target.pathname;
    const work = path.startsWith("/v1/")
      ? handleApi(req, res, target)
      : path.startsWith("/c/pay/")
        ? handleCheckout(req, res, decodeURIComponent(path.slice("/c/pay/".length)))
        : path.startsWith("/p/session/")
          ? handlePortal(req, res, decodeURIComponent(path.slice("/p/session/".length)), target)
          : path === "/_standin" || path.startsWith("/_standin/")
            ? handleControl(req, res, target)
            : Promise.resolve(sendJson(res, 404, { error: "not found" }));
    work.catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      if (error instanceof BodyTooLargeError)
        return sendJson(
          res,
          413,
          new StripeApiError(413, "invalid_request_error", error.message).body(),
        );
      log(`stripe stand-in: ${String(error)}`);
      sendJson(
        res,
        500,
        new StripeApiError(500, "api_error", "An unexpected error occurred.").body(),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}`;

  return {
    url,
    host: "127.0.0.1",
    port,
    apiVersion: STRIPE_API_VERSION,
    secretKey,
    webhookSecret,
    proPriceId: pro.id,
    addWebhookEndpoint: (e) => webhooks.addEndpoint(typeof e === "string" ? { url: e } : e),
    webhookEndpoints: () => webhooks.endpointUrls(),
    events: () => webhooks.allEvents(),
    deliveries: () => webhooks.deliveries(),
    idle: () => webhooks.idle(),
    subscription: (id) => billing.renderSub(billing.subscription(id)),
    control,
    async stop() {
      webhooks.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
