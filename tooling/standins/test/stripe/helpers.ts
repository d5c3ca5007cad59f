import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import {
  startStripeStandin,
  STRIPE_API_VERSION,
  submitForm,
  type PageAnswer,
  type StripeStandin,
  type StripeStandinOptions,
} from "../../src/stripe";

export { payCheckout, submitForm, type PageAnswer } from "../../src/stripe";

/** An event as the test endpoint verified it, in arrival order (duplicates included). */
export interface Received {
  event: Stripe.Event;
  raw: string;
  signature: string;
}

/**
 * A webhook endpoint like the portal's: reads the raw body and verifies it with stripe-node's
 * `constructEvent` and its default 300 s tolerance; a bad signature gets 400. It can be told to
 * answer the next deliveries with an error status, or to hang past the stand-in's timeout.
 */
export interface Receiver {
  url: string;
  secret: string;
  received: Received[];
  rejected: { signature: string | undefined; reason: string }[];
  /** Answers the next `count` deliveries (of event type `type`, when given) with `status`. */
  failNext(count: number, status?: number, type?: string): void;
  hangNext(count: number, ms: number): void;
  stop(): Promise<void>;
}

export async function startReceiver(secret: string): Promise<Receiver> {
  const verifier = new Stripe("sk_test_unused_for_webhooks");
  let failing = 0;
  let failStatus = 500;
  let failType: string | undefined;
  let hanging = 0;
  let hangMs = 0;
  const received: Received[] = [];
  const rejected: Receiver["rejected"] = [];
  const read = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };
  const server = createServer((req, res) => {
    void read(req).then(async (raw) => {
      const signature = req.headers["stripe-signature"] as string | undefined;
      if (hanging > 0) {
        hanging--;
        await new Promise((r) => setTimeout(r, hangMs));
        if (res.destroyed) return;
      }
      const type = (() => {
        try {
          return (JSON.parse(raw) as { type?: string }).type;
        } catch {
          return undefined;
        }
      })();
      if (failing > 0 && (!failType || failType === type)) {
        failing--;
        res.writeHead(failStatus).end("try again");
        return;
      }
      try {
        const event = verifier.webhooks.constructEvent(raw, signature ?? "", secret);
        received.push({ event, raw, signature: signature ?? "" });
        res.writeHead(200, { "content-type": "application/json" }).end('{"received":true}');
      } catch (error) {
        rejected.push({ signature, reason: (error as Error).message });
        res.writeHead(400).end("bad signature");
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/stripe/webhook`,
    secret,
    received,
    rejected,
    failNext(count, status = 500, type) {
      failing = count;
      failStatus = status;
      failType = type;
    },
    hangNext(count, ms) {
      hanging = count;
      hangMs = ms;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface Fixture {
  standin: StripeStandin;
  stripe: Stripe;
  receiver: Receiver;
  stop(): Promise<void>;
}

/** A stand-in delivering to a verifying test endpoint, and the real stripe-node pointed at it. */
export async function startFixture(options: StripeStandinOptions = {}): Promise<Fixture> {
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  const receiver = await startReceiver(secret);
  const standin = await startStripeStandin({
    webhookSecret: secret,
    webhookEndpoints: [receiver.url],
    retryDelaysMs: [20, 40, 80],
    webhookTimeoutMs: 5_000,
    ...options,
  });
  const stripe = clientFor(standin);
  return {
    standin,
    stripe,
    receiver,
    async stop() {
      await standin.stop();
      await receiver.stop();
    },
  };
}

export function clientFor(standin: StripeStandin, key = standin.secretKey): Stripe {
  return new Stripe(key, {
    host: standin.host,
    port: standin.port,
    protocol: "http",
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries: 0,
  });
}

/** Submits the portal page's button whose text is `button` for a subscription. */
export async function portalAction(portalUrl: string, button: string): Promise<PageAnswer> {
  const html = await (await fetch(portalUrl)).text();
  const forms = [...html.matchAll(/<form[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/g)];
  const index = forms.findIndex((f) => f[1]!.includes(`>${button}</button>`));
  if (index < 0) throw new Error(`no "${button}" button on the portal page: ${html}`);
  return submitForm(portalUrl, {}, index);
}

export const types = (r: Received[]) => r.map((x) => x.event.type);
