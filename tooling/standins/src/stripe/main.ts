import { parseArgs } from "node:util";
import { startStripeStandin } from "./index";

// Runs the Stripe stand-in on its own: `npx tsx tooling/standins/src/stripe/main.ts [--port N]
// [--webhook http://127.0.0.1:3000/api/stripe/webhook]… [--secret-key sk_test_…]
// [--webhook-secret whsec_…] [--price price_…]`. Prints the STRIPE_* settings to use (this is a
// dev/test tool: the keys it prints are its own test keys).
const { values } = parseArgs({
  options: {
    port: { type: "string" },
    webhook: { type: "string", multiple: true },
    "secret-key": { type: "string" },
    "webhook-secret": { type: "string" },
    price: { type: "string" },
  },
});

const stripe = await startStripeStandin({
  port: values.port === undefined ? undefined : Number.parseInt(values.port, 10),
  webhookEndpoints: values.webhook ?? [],
  secretKey: values["secret-key"],
  webhookSecret: values["webhook-secret"],
  proPrice: values.price ? { id: values.price } : undefined,
  log: (line) => console.log(`[stripe] ${line}`),
});
console.log(`STRIPE_API_URL=${stripe.url}`);
console.log(`STRIPE_SECRET_KEY=${stripe.secretKey}`);
console.log(`STRIPE_WEBHOOK_SECRET=${stripe.webhookSecret}`);
console.log(`STRIPE_PRICE_PRO=${stripe.proPriceId}`);
console.log(`# API version ${stripe.apiVersion}; control page ${stripe.url}/_standin`);
console.log(`# webhooks → ${stripe.webhookEndpoints().join(", ") || "none (--webhook URL)"}`);

const shutdown = () => {
  void stripe.stop().then(() => process.exit(0));
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
