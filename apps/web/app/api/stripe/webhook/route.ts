import { env } from "~/env";
import { accountsDb } from "~/server/db";
import { MAX_WEBHOOK_BYTES, receiveStripeWebhook } from "~/server/domain/billing-webhook";
import { stripeClient } from "~/server/stripe";

export const dynamic = "force-dynamic";

/**
 * Stripe's webhook endpoint (docs/architecture.md, "Billing"): the raw body as Stripe signed it,
 * verified against STRIPE_WEBHOOK_SECRET; 2xx tells Stripe to stop, anything else makes it
 * deliver again. No session, no cookie: the signature is the authentication.
 */
export async function POST(request: Request): Promise<Response> {
  const raw = await readCapped(request, MAX_WEBHOOK_BYTES);
  if (raw === null) return answer(413, "payload too large");
  let config;
  try {
    config = env();
  } catch (error) {
    console.error(`stripe webhook: cannot answer (${(error as Error).name})`);
    return answer(500, "server misconfigured");
  }
  try {
    const result = await receiveStripeWebhook(
      {
        db: accountsDb(),
        stripe: stripeClient(),
        webhookSecret: config.STRIPE_WEBHOOK_SECRET,
        settings: {
          graceDays: config.PRO_GRACE_DAYS,
          quotaFree: config.PLAN_QUOTA_FREE,
          quotaPro: config.PLAN_QUOTA_PRO,
        },
      },
      raw,
      request.headers.get("stripe-signature"),
    );
    return answer(result.status, result.body);
  } catch (error) {
    // The database, most likely: Stripe delivers again. The error's name only (no body).
    console.error(`stripe webhook: failed (${(error as Error).name})`);
    return answer(500, "internal error, deliver again");
  }
}

/** The body as text, or null past `max` bytes (read no further than that). */
async function readCapped(request: Request, max: number): Promise<string | null> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > max) return null;
  if (!request.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const answer = (status: number, body: string) =>
  new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });

const notAllowed = () =>
  new Response("POST only", {
    status: 405,
    headers: { allow: "POST", "cache-control": "no-store" },
  });
export { notAllowed as GET, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
