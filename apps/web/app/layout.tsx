import type { Metadata, Viewport } from "next";
import { connection } from "next/server";
import { TRPCReactProvider } from "~/trpc/react";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "irc.now — your IRC, always on", template: "%s · irc.now" },
  description:
    "irc.now gives you your own hosted soju IRC bouncer: stay connected, keep history, use any client.",
};

export const viewport: Viewport = { themeColor: "#0b1020" };

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Every page is rendered per request: Next puts proxy.ts's per-request CSP nonce on its
  // scripts only while rendering, so a page prerendered at build time would have none.
  await connection();
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-950 font-sans text-slate-100 antialiased">
        {/* Every page's <main> has id="main" (and tabIndex -1, so it can take focus). */}
        <a
          href="#main"
          className="sr-only rounded-md bg-emerald-400 px-4 py-2 font-semibold text-slate-950 focus:not-sr-only focus:fixed focus:top-3 focus:left-3 focus:z-50 focus:outline-2 focus:outline-offset-2 focus:outline-white"
        >
          Skip to main content
        </a>
        <TRPCReactProvider>{children}</TRPCReactProvider>
      </body>
    </html>
  );
}
