import type { NextConfig } from "next";

const securityHeaders = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Content-Security-Policy", value: "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
];

const config: NextConfig = {
  // Tests run their own `next dev` beside a developer's (Next refuses two in one build dir).
  // eslint-disable-next-line no-restricted-properties -- build-time setting, not app configuration
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
  // Internal packages export TypeScript sources; Next compiles them (no build step between packages).
  transpilePackages: ["@irc-now/config", "@irc-now/db"],
  serverExternalPackages: ["pg"],
  poweredByHeader: false,
  reactStrictMode: true,
  // forbidden() in app/admin/layout.tsx: a real 403 rendering app/forbidden.tsx.
  experimental: { authInterrupts: true },
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
};

export default config;
