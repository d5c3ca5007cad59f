"use client";

import { useEffect, useState } from "react";

const focusRing =
  "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400";

/**
 * Copies `text` to the clipboard; says so in a live region next to it ("Copied"), or asks the
 * user to select and copy by hand when the browser refuses (no permission, insecure origin).
 */
export function CopyButton({ text, what }: { text: string; what: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const timer = setTimeout(() => setState("idle"), 4_000);
    return () => clearTimeout(timer);
  }, [state]);
  return (
    <span className="inline-flex items-center gap-2">
      <button
        type="button"
        onClick={() => {
          navigator.clipboard
            .writeText(text)
            .then(() => setState("copied"))
            .catch(() => setState("failed"));
        }}
        className={`rounded-md border border-slate-600 px-3 py-1 text-sm text-slate-200 hover:bg-slate-800 ${focusRing}`}
      >
        Copy <span className="sr-only">{what}</span>
      </button>
      <span role="status" className="text-xs text-slate-300">
        {state === "copied" ? "Copied" : state === "failed" ? "Select it and copy by hand" : ""}
      </span>
    </span>
  );
}
