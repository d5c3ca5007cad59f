"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

/** How long to wait for Stripe's webhook before saying that it takes longer than usual. */
const PATIENCE_MS = 60_000;
const EVERY_MS = 2_000;

/**
 * Back from a paid Checkout before Stripe's webhook has made the user pro: says so, and reloads
 * the page's data every 2 s until the server renders the pro plan (which replaces this notice).
 */
export function ActivationWatch({ className }: { className: string }) {
  const router = useRouter();
  const [slow, setSlow] = useState(false);
  useEffect(() => {
    const started = Date.now();
    const timer = setInterval(() => {
      router.refresh();
      if (Date.now() - started > PATIENCE_MS) setSlow(true);
    }, EVERY_MS);
    return () => clearInterval(timer);
  }, [router]);
  return (
    <p role="status" data-testid="billing-notice" className={className}>
      {slow
        ? "Payment received. Activating pro is taking longer than usual; this page keeps checking, and you don't need to pay again."
        : "Payment received, activating pro…"}
    </p>
  );
}
