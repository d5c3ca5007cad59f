"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { useTRPC } from "~/trpc/react";
import { CopyButton } from "./copy-button";

const focusRing =
  "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400";
const field =
  "mt-1 block w-full rounded-md border border-slate-700 bg-slate-950 px-3 py-2 text-slate-100";

/** A label for "this device", guessed from the browser: the user can change it. */
function deviceLabel(): string {
  const ua = typeof navigator === "undefined" ? "" : navigator.userAgent;
  const os = /Android/.test(ua)
    ? "Android"
    : /iPhone|iPad/.test(ua)
      ? "iPhone"
      : /Mac OS X/.test(ua)
        ? "Mac"
        : /Windows/.test(ua)
          ? "Windows"
          : /Linux/.test(ua)
            ? "Linux"
            : "this device";
  return `IRC client on ${os}`;
}

export interface CreatedAppPassword {
  label: string;
  token: string;
}

/**
 * The form that creates an IRC app password, and the one-time view of it: shown in a live
 * region, focused, with a copy button and a plain warning that it will not be shown again.
 * `bouncers`: the scope choices (one bouncer, or all); `fixedBouncer` pre-selects one.
 */
export function NewAppPassword({
  bouncers,
  fixedBouncer,
  onCreated,
  idPrefix,
  autoFocus = false,
}: {
  bouncers: string[];
  fixedBouncer?: string;
  onCreated?: (created: CreatedAppPassword) => void;
  idPrefix: string;
  /** Focus the label when the form appears (it replaced the button that opened it). */
  autoFocus?: boolean;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const ids = {
    label: `${idPrefix}-label`,
    labelError: `${idPrefix}-label-error`,
    scope: `${idPrefix}-scope`,
    expiry: `${idPrefix}-expiry`,
    secretHeading: `${idPrefix}-secret-heading`,
  };
  const [label, setLabel] = useState("IRC client");
  const [scope, setScope] = useState(fixedBouncer ?? "");
  const [expiry, setExpiry] = useState("never");
  const [created, setCreated] = useState<CreatedAppPassword | null>(null);
  const secretHeading = useRef<HTMLHeadingElement>(null);
  const labelInput = useRef<HTMLInputElement>(null);
  const hintId = useId();

  // The guess needs the browser's user agent: after hydration, so server and client agree.
  useEffect(() => {
    setLabel(deviceLabel());
    if (autoFocus) labelInput.current?.focus();
  }, [autoFocus]);
  useEffect(() => {
    if (created) secretHeading.current?.focus();
  }, [created]);

  const create = useMutation(
    trpc.appPasswords.create.mutationOptions({
      onSuccess: async (result) => {
        const made = { label: result.password.label, token: result.token };
        setCreated(made);
        onCreated?.(made);
        await queryClient.invalidateQueries({ queryKey: trpc.appPasswords.mine.queryKey() });
      },
      onError: () => labelInput.current?.focus(),
    }),
  );
  const fieldErrors = create.error?.data?.fieldErrors as Record<string, string> | null | undefined;
  const labelError = fieldErrors?.label ?? null;
  const otherError =
    create.error && !labelError
      ? create.error.data
        ? create.error.message
        : "Could not reach irc.now. Check your connection and try again."
      : null;

  return (
    <div className="mt-3">
      {/* The one-time secret: announced when it appears, and focused. */}
      <div aria-live="polite" className="empty:hidden">
        {created && (
          <div
            className="mb-4 rounded-md border border-emerald-700 bg-emerald-950/40 p-4"
            data-testid="new-app-password"
          >
            <h4
              id={ids.secretHeading}
              ref={secretHeading}
              tabIndex={-1}
              className={`rounded font-semibold text-emerald-200 ${focusRing}`}
            >
              App password for “{created.label}”
            </h4>
            <p className="mt-1 text-sm text-emerald-100">
              Copy it into your IRC client now. <strong>You won’t see it again</strong>: irc.now
              keeps only a fingerprint of it.
            </p>
            <div className="mt-3 flex flex-wrap items-center gap-3">
              <code
                className="rounded bg-slate-950 px-2 py-1 font-mono text-sm break-all text-white"
                data-testid="app-password-token"
              >
                {created.token}
              </code>
              <CopyButton text={created.token} what="the app password" />
            </div>
            <button
              type="button"
              onClick={() => {
                setCreated(null);
                create.reset();
                labelInput.current?.focus();
              }}
              className={`mt-3 text-sm text-slate-300 underline underline-offset-4 hover:text-white ${focusRing}`}
            >
              Done, hide it
            </button>
          </div>
        )}
      </div>
      <form
        noValidate
        aria-describedby={hintId}
        className="grid gap-3 sm:grid-cols-[minmax(0,2fr)_minmax(0,1fr)_minmax(0,1fr)_auto] sm:items-end"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({
            label: label.trim(),
            bouncer: scope === "" ? null : scope,
            expiresInDays: expiry === "never" ? null : (Number(expiry) as 30 | 90 | 365),
          });
        }}
      >
        <p id={hintId} className="text-sm text-slate-400 sm:col-span-4">
          Create one app password per device or client, so you can revoke one without touching the
          others.
        </p>
        <div>
          <label htmlFor={ids.label} className="block text-sm text-slate-300">
            Label
          </label>
          <input
            ref={labelInput}
            id={ids.label}
            value={label}
            maxLength={64}
            autoComplete="off"
            onChange={(e) => {
              setLabel(e.target.value);
              if (create.isError) create.reset();
            }}
            aria-invalid={labelError ? true : undefined}
            aria-describedby={labelError ? ids.labelError : undefined}
            className={`${field} ${labelError ? "border-red-500" : ""} ${focusRing}`}
          />
        </div>
        <div>
          <label htmlFor={ids.scope} className="block text-sm text-slate-300">
            Works for
          </label>
          <select
            id={ids.scope}
            value={scope}
            onChange={(e) => setScope(e.target.value)}
            className={`${field} ${focusRing}`}
          >
            <option value="">All my bouncers</option>
            {bouncers.map((b) => (
              <option key={b} value={b}>
                {b} only
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={ids.expiry} className="block text-sm text-slate-300">
            Expires
          </label>
          <select
            id={ids.expiry}
            value={expiry}
            onChange={(e) => setExpiry(e.target.value)}
            className={`${field} ${focusRing}`}
          >
            <option value="never">Never</option>
            <option value="30">In 30 days</option>
            <option value="90">In 90 days</option>
            <option value="365">In a year</option>
          </select>
        </div>
        <button
          type="submit"
          disabled={create.isPending}
          className={`rounded-md bg-emerald-500 px-4 py-2 font-semibold whitespace-nowrap text-slate-950 hover:bg-emerald-400 disabled:cursor-wait disabled:opacity-50 ${focusRing}`}
        >
          {create.isPending ? "Creating…" : "Create app password"}
        </button>
        {labelError && (
          <p id={ids.labelError} role="alert" className="text-sm text-red-300 sm:col-span-4">
            {labelError}
          </p>
        )}
        {otherError && (
          <p
            role="alert"
            className="text-sm text-red-300 sm:col-span-4"
            data-testid="app-password-error"
          >
            {otherError}
          </p>
        )}
      </form>
    </div>
  );
}
