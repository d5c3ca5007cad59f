/**
 * Webhook events and their delivery, as Stripe does it: one event per change with the pinned
 * API version's payload, a JSON body (pretty-printed, as Stripe sends it) POSTed to every
 * endpoint that enabled its type, signed `Stripe-Signature: t=<unix>,v1=<hex>` with
 * HMAC-SHA256 over `${t}.${body}` keyed by the whole `whsec_…` string. A non-2xx answer, a
 * redirect, a timeout or a refused connection is retried after `retryDelaysMs` (Stripe: hours;
 * here configurable, milliseconds in tests). Held events, duplicates and stale re-sends are the
 * stand-in's knobs for the portal's order-proof and idempotent handling.
 */
import { createHmac } from "node:crypto";
import { nowSeconds, STRIPE_API_VERSION, stripeId, type ApiObject } from "./model";

export interface WebhookEndpointConfig {
  url: string;
  /** The endpoint's signing secret (defaults to the stand-in's `webhookSecret`). */
  secret?: string;
  /** Event types delivered to it (`*` or absent = all). */
  enabledEvents?: string[];
}

export interface StripeEvent {
  id: string;
  object: "event";
  api_version: string;
  created: number;
  data: { object: ApiObject; previous_attributes?: ApiObject };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export type DeliveryKind = "delivery" | "retry" | "duplicate" | "resend" | "stale";

/** One POST to one endpoint, as the stand-in's delivery log records it. */
export interface DeliveryRecord {
  eventId: string;
  type: string;
  endpoint: string;
  /** 1 for the first attempt of a delivery, 2… for its retries; re-sends start at 1. */
  attempt: number;
  kind: DeliveryKind;
  /** The `t=` of the signature header (a stale re-send's is in the past). */
  signatureTimestamp: number;
  /** The endpoint's HTTP status; null when no answer came (timeout, refused connection). */
  status: number | null;
  ok: boolean;
  error: string | null;
  startedAt: string;
  durationMs: number;
}

/** Which events `hold` catches; all given fields must match. */
export interface HoldMatch {
  type?: string;
  /** The id of `data.object`, or its `subscription` / `customer`. */
  objectId?: string;
}

interface Endpoint {
  url: string;
  secret: string;
  enabledEvents: string[] | null;
  /** First attempts go out one after another per endpoint, in event order. */
  chain: Promise<void>;
}

export interface WebhookOptions {
  secret: string;
  endpoints: WebhookEndpointConfig[];
  retryDelaysMs: number[];
  timeoutMs: number;
  log: (line: string) => void;
}

/** The header Stripe sends: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`. */
export function stripeSignatureHeader(body: string, secret: string, timestamp: number): string {
  const v1 = createHmac("sha256", secret).update(`${timestamp}.${body}`, "utf8").digest("hex");
  return `t=${timestamp},v1=${v1}`;
}

export class WebhookDeliverer {
  private readonly endpoints: Endpoint[] = [];
  private readonly log: DeliveryRecord[] = [];
  private readonly events = new Map<string, { event: StripeEvent; body: string }>();
  private readonly holds: HoldMatch[] = [];
  private readonly held: { eventId: string; endpoint: Endpoint }[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly stopped = new AbortController();
  private pending = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: WebhookOptions) {
    for (const e of options.endpoints) this.addEndpoint(e);
  }

  addEndpoint(config: WebhookEndpointConfig): void {
    this.endpoints.push({
      url: config.url,
      secret: config.secret ?? this.options.secret,
      enabledEvents:
        !config.enabledEvents || config.enabledEvents.includes("*") ? null : config.enabledEvents,
      chain: Promise.resolve(),
    });
  }

  endpointUrls(): string[] {
    return this.endpoints.map((e) => e.url);
  }

  /** Builds the event (its payload frozen now, as Stripe's are) and starts delivering it. */
  emit(
    type: string,
    object: ApiObject,
    previous?: ApiObject,
    request: StripeEvent["request"] = { id: null, idempotency_key: null },
  ): StripeEvent {
    const targets = this.endpoints.filter(
      (e) => !e.enabledEvents || e.enabledEvents.includes(type),
    );
    const event: StripeEvent = {
      id: stripeId("evt_1"),
      object: "event",
      api_version: STRIPE_API_VERSION,
      created: nowSeconds(),
      data: previous ? { object, previous_attributes: previous } : { object },
      livemode: false,
      pending_webhooks: targets.length,
      request,
      type,
    };
    const body = JSON.stringify(event, null, 2);
    this.events.set(event.id, { event, body });
    for (const endpoint of targets) {
      if (this.holds.some((h) => matches(h, event))) {
        this.held.push({ eventId: event.id, endpoint });
        this.options.log(`webhook ${event.id} ${type} held for ${endpoint.url}`);
        continue;
      }
      this.enqueue(event.id, endpoint);
    }
    return event;
  }

  event(id: string): StripeEvent | undefined {
    return this.events.get(id)?.event;
  }

  /** Every event, oldest first. */
  allEvents(): StripeEvent[] {
    return [...this.events.values()].map((e) => e.event);
  }

  deliveries(): DeliveryRecord[] {
    return this.log.map((d) => ({ ...d }));
  }

  /** Events matching `match` are kept back from now on, until `release()`. */
  hold(match: HoldMatch): void {
    this.holds.push({ ...match });
  }

  heldEventIds(): string[] {
    return this.held.map((h) => h.eventId);
  }

  /** Stops holding and delivers what was held, in the order it was held. */
  release(): string[] {
    this.holds.length = 0;
    const held = this.held.splice(0);
    for (const h of held) this.enqueue(h.eventId, h.endpoint);
    return held.map((h) => h.eventId);
  }

  /**
   * Delivers the same event (same id, same body, a fresh signature) `times` more times to every
   * endpoint, all at once when `concurrent`. A duplicate is not retried.
   */
  async duplicate(eventId: string, times = 1, concurrent = false): Promise<DeliveryRecord[]> {
    const sends: (() => Promise<DeliveryRecord>)[] = [];
    for (const endpoint of this.targets(eventId))
      for (let i = 0; i < times; i++)
        sends.push(() => this.attempt(eventId, endpoint, 1, "duplicate", nowSeconds()));
    return this.track(async () => {
      if (concurrent) return Promise.all(sends.map((s) => s()));
      const out: DeliveryRecord[] = [];
      for (const s of sends) out.push(await s());
      return out;
    });
  }

  /**
   * Sends an event again to every endpoint, once; `staleSeconds` signs it as if it had been
   * sent that long ago (what a replayed capture looks like), which verifiers must refuse.
   */
  async resend(eventId: string, staleSeconds = 0): Promise<DeliveryRecord[]> {
    const kind: DeliveryKind = staleSeconds > 0 ? "stale" : "resend";
    return this.track(() =>
      Promise.all(
        this.targets(eventId).map((endpoint) =>
          this.attempt(eventId, endpoint, 1, kind, nowSeconds() - staleSeconds),
        ),
      ),
    );
  }

  /** Resolves once nothing is in flight or waiting for a retry (held events do not count). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pending = 0;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private targets(eventId: string): Endpoint[] {
    const entry = this.events.get(eventId);
    if (!entry) throw new Error(`no such event: ${eventId}`);
    const type = entry.event.type;
    return this.endpoints.filter((e) => !e.enabledEvents || e.enabledEvents.includes(type));
  }

  private async track<T>(work: () => Promise<T>): Promise<T> {
    this.pending++;
    try {
      return await work();
    } finally {
      this.done();
    }
  }

  private done(): void {
    this.pending = Math.max(0, this.pending - 1);
    if (this.pending === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private enqueue(eventId: string, endpoint: Endpoint): void {
    this.pending++;
    endpoint.chain = endpoint.chain.then(async () => {
      if (this.stopped.signal.aborted) return;
      const first = await this.attempt(eventId, endpoint, 1, "delivery", nowSeconds());
      if (!first.ok) this.scheduleRetry(eventId, endpoint, 2);
      this.done();
    });
  }

  private scheduleRetry(eventId: string, endpoint: Endpoint, attempt: number): void {
    const delay = this.options.retryDelaysMs[attempt - 2];
    if (delay === undefined || this.stopped.signal.aborted) return;
    this.pending++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(eventId, endpoint, attempt, "retry", nowSeconds()).then((r) => {
        if (!r.ok) this.scheduleRetry(eventId, endpoint, attempt + 1);
        this.done();
      });
    }, delay);
    this.timers.add(timer);
  }

  private async attempt(
    eventId: string,
    endpoint: Endpoint,
    attempt: number,
    kind: DeliveryKind,
    timestamp: number,
  ): Promise<DeliveryRecord> {
    const entry = this.events.get(eventId);
    if (!entry) throw new Error(`no such event: ${eventId}`);
    const started = Date.now();
    const record: DeliveryRecord = {
      eventId,
      type: entry.event.type,
      endpoint: endpoint.url,
      attempt,
      kind,
      signatureTimestamp: timestamp,
      status: null,
      ok: false,
      error: null,
      startedAt: new Date(started).toISOString(),
      durationMs: 0,
    };
    try {
      const res = await fetch(endpoint.url, {
        method: "POST",
        redirect: "manual",
        signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.stopped.signal]),
        headers: {
          "content-type": "application/json; charset=utf-8",
          accept: "*/*; q=0.5, application/xml",
          "cache-control": "no-cache",
          "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
          "stripe-signature": stripeSignatureHeader(entry.body, endpoint.secret, timestamp),
        },
        body: entry.body,
      });
      await res.arrayBuffer().catch(() => undefined);
      record.status = res.status;
      record.ok = res.status >= 200 && res.status < 300;
      if (!record.ok) record.error = `HTTP ${res.status}`;
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } };
      record.error =
        e.name === "TimeoutError" ? "timed out" : (e.cause?.code ?? e.message ?? String(error));
    }
    record.durationMs = Date.now() - started;
    if (this.stopped.signal.aborted && record.status === null) return record;
    this.log.push(record);
    this.options.log(
      `webhook ${eventId} ${record.type} → ${endpoint.url}: ${record.status ?? record.error}` +
        (kind === "delivery" ? "" : ` (${kind}${kind === "retry" ? ` ${attempt}` : ""})`),
    );
    return { ...record };
  }
}

function matches(h: HoldMatch, event: StripeEvent): boolean {
  if (h.type && h.type !== event.type) return false;
  if (h.objectId) {
    const o = event.data.object;
    const ids = [o.id, o.subscription, o.customer];
    const parent = o.parent as { subscription_details?: { subscription?: unknown } } | null;
    ids.push(parent?.subscription_details?.subscription);
    if (!ids.includes(h.objectId)) return false;
  }
  return true;
}
