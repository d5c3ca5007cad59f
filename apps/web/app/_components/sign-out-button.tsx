"use client";

import { useState } from "react";

/** Ends the portal session and the Keycloak session (RP-initiated logout). */
export function SignOutButton() {
  const [pending, setPending] = useState(false);
  const [failed, setFailed] = useState(false);
  return (
    <>
      <button
        type="button"
        disabled={pending}
        onClick={async () => {
          setPending(true);
          setFailed(false);
          try {
            const res = await fetch("/api/auth/logout", {
              method: "POST",
              headers: { accept: "application/json" },
            });
            const body = (await res.json()) as { url?: string };
            if (!res.ok || !body.url) throw new Error("sign-out failed");
            window.location.assign(body.url);
          } catch {
            setFailed(true);
            setPending(false);
          }
        }}
        className="rounded-md border border-slate-700 px-3 py-1.5 whitespace-nowrap text-slate-200 hover:bg-slate-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400 disabled:opacity-50"
      >
        {pending ? "Signing out…" : "Sign out"}
      </button>
      {/* Always in the page, so screen readers announce the text when it appears. */}
      <span role="status" className="text-xs text-red-300 empty:hidden">
        {failed ? "Could not sign out. Try again." : ""}
      </span>
    </>
  );
}
