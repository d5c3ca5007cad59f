import type { NextConfig } from "next";

// Content-Security-Policy (with a per-request nonce) and HSTS are set per request in proxy.ts.
const securityHeaders = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
];

const config = (): NextConfig => ({
  // Tests run their own `next dev` beside a developer's (Next refuses two in one build dir).
  // eslint-disable-next-line no-restricted-properties -- build-time setting, not app configuration
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
  // Internal packages export TypeScript sources; Next compiles them (no build step between packages).
  transpilePackages: ["@irc-now/config", "@irc-now/db", "@irc-now/ergo"],
  // Images run .next/standalone (server.js + the traced node_modules only); docs/deploy.md.
  output: "standalone",
  // pg-listen (via pg-format) requires files by __dirname, which a bundle cannot resolve.
  serverExternalPackages: ["pg", "pg-listen"],
  poweredByHeader: false,
  reactStrictMode: true,
  // forbidden() in app/admin/layout.tsx: a real 403 rendering app/forbidden.tsx.
  experimental: { authInterrupts: true },
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
});

export default config;
