import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, stripeEnv } from "@irc-now/config";
import { stripeService } from "../src/services/stripe";

// npm run dev's Stripe: settings the web's config accepts, an API that answers with them, and
// webhooks signed with STRIPE_WEBHOOK_SECRET arriving at ${AUTH_URL}/api/stripe/webhook.
describe("npm run dev's Stripe stand-in", () => {
  let web: Server;
  let webPort: number;
  const hits: { path: string; body: string; signature: string }[] = [];
  let env: Record<string, string>;
  let info: string[];
  let stop: () => Promise<void>;

  beforeAll(async () => {
    web = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        hits.push({
          path: req.url ?? "",
          body,
          signature: String(req.headers["stripe-signature"]),
        });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
    webPort = (web.address() as AddressInfo).port;
    const started = await stripeService.start({ AUTH_URL: `http://localhost:${webPort}` });
    env = started.env as Record<string, string>;
    info = started.info ?? [];
    stop = started.stop;
  });
  afterAll(async () => {
    await stop?.();
    web.closeAllConnections();
    await new Promise<void>((r) => web.close(() => r()));
  });

  it("exports STRIPE_* the web's stripe config area accepts, and keeps the secrets off the banner", () => {
    const config = loadConfig([stripeEnv], env);
    expect(config.STRIPE_SECRET_KEY).toMatch(/^sk_test_/);
    expect(config.STRIPE_WEBHOOK_SECRET).toMatch(/^whsec_/);
    expect(config.STRIPE_PRICE_PRO).toMatch(/^price_/);
    expect(config.STRIPE_API_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const banner = info.join("\n");
    expect(banner).toContain(`webhooks → http://127.0.0.1:${webPort}/api/stripe/webhook`);
    expect(banner).toContain(`${env.STRIPE_API_URL}/_standin`);
    expect(banner).not.toContain(env.STRIPE_SECRET_KEY!);
    expect(banner).not.toContain(env.STRIPE_WEBHOOK_SECRET!);
  });

  it("answers the API with the exported key and delivers signed webhooks to the web's endpoint", async () => {
    const res = await fetch(`${env.STRIPE_API_URL}/v1/customers`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${env.STRIPE_SECRET_KEY}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "email=dev%40example.test",
    });
    expect(res.status).toBe(200);
    const price = await fetch(`${env.STRIPE_API_URL}/v1/prices/${env.STRIPE_PRICE_PRO}`, {
      headers: { authorization: `Bearer ${env.STRIPE_SECRET_KEY}` },
    });
    expect(price.status).toBe(200);
    for (let i = 0; i < 100 && hits.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const [hit] = hits;
    expect(hit?.path).toBe("/api/stripe/webhook");
    expect(JSON.parse(hit!.body)).toMatchObject({ type: "customer.created" });
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(hit!.signature) ?? [];
    const expected = createHmac("sha256", env.STRIPE_WEBHOOK_SECRET!)
      .update(`${t}.${hit!.body}`)
      .digest();
    expect(timingSafeEqual(expected, Buffer.from(v1!, "hex"))).toBe(true);
  });

  it("steps aside when STRIPE_API_URL or STRIPE_SECRET_KEY is given", async () => {
    const cases: Record<string, string>[] = [
      { STRIPE_API_URL: "http://127.0.0.1:12111" },
      { STRIPE_SECRET_KEY: "sk_test_real" },
    ];
    for (const given of cases) {
      const started = await stripeService.start({ AUTH_URL: "http://localhost:3000", ...given });
      expect(started.env).toBeUndefined();
      expect(started.info?.[0]).toMatch(/^using Stripe at /);
      expect(started.info?.join("\n")).not.toContain("sk_test_real");
      await started.stop();
    }
  });
});
