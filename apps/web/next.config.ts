import { PHASE_DEVELOPMENT_SERVER } from "next/constants";
import type { NextConfig } from "next";

/**
 * Everything loads from our own origin. Next's App Router inlines its bootstrap scripts and
 * recharts/Tailwind set inline styles, hence 'unsafe-inline' for those two (no nonce plumbing
 * yet); the dev server also needs eval for fast refresh.
 */
function contentSecurityPolicy(dev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'unsafe-inline'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${dev ? " ws: wss:" : ""}`,
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
  ].join("; ");
}

const securityHeaders = (dev: boolean) => [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Content-Security-Policy", value: contentSecurityPolicy(dev) },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
];

const config = (phase: string): NextConfig => ({
  // Tests run their own `next dev` beside a developer's (Next refuses two in one build dir).
  // eslint-disable-next-line no-restricted-properties -- build-time setting, not app configuration
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
  // Internal packages export TypeScript sources; Next compiles them (no build step between packages).
  transpilePackages: ["@irc-now/config", "@irc-now/db", "@irc-now/ergo"],
  serverExternalPackages: ["pg"],
  poweredByHeader: false,
  reactStrictMode: true,
  // forbidden() in app/admin/layout.tsx: a real 403 rendering app/forbidden.tsx.
  experimental: { authInterrupts: true },
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders(phase === PHASE_DEVELOPMENT_SERVER) }];
  },
});

export default config;
