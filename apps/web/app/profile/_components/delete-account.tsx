"use client";

import { useMutation } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { useTRPC } from "~/trpc/react";
import { keepTabInside } from "../../_components/focus-trap";

const focusRing =
  "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400";

/** Handed back by Keycloak to /signed-out after the logout (OIDC RP-initiated logout `state`). */
const ACCOUNT_DELETED_STATE = "account-deleted";

/**
 * The profile's danger zone: deleting the account. The user types their username in a modal
 * dialog that lists what goes; on success every session has already ended on the server, and
 * this browser signs out of the portal and of Keycloak.
 */
export function DeleteAccount({ username }: { username: string }) {
  const trpc = useTRPC();
  const ids = {
    heading: useId(),
    title: useId(),
    effect: useId(),
    input: useId(),
    error: useId(),
  };
  const dialog = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const [localError, setLocalError] = useState<string | null>(null);
  const [signingOut, setSigningOut] = useState(false);
  const [signOutFailed, setSignOutFailed] = useState(false);

  const signOut = async () => {
    setSigningOut(true);
    setSignOutFailed(false);
    try {
      const res = await fetch("/api/auth/logout", {
        method: "POST",
        headers: { accept: "application/json" },
      });
      const body = (await res.json()) as { url?: string };
      if (!res.ok || !body.url) throw new Error("sign-out failed");
      const url = new URL(body.url);
      url.searchParams.set("state", ACCOUNT_DELETED_STATE);
      window.location.assign(url.toString());
    } catch {
      // The server already refuses this session; the page says so and offers to retry.
      setSignOutFailed(true);
      setSigningOut(false);
    }
  };

  const remove = useMutation(
    trpc.account.requestDeletion.mutationOptions({
      onSuccess: () => void signOut(),
      onError: () => input.current?.focus(),
    }),
  );

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) {
      d.showModal();
      input.current?.focus();
    }
    if (!open && d.open) d.close();
  }, [open]);

  const fieldError =
    localError ??
    remove.error?.data?.fieldErrors?.confirmUsername ??
    (remove.error ? remove.error.message : null);
  const done = remove.isSuccess;

  return (
    <section
      aria-labelledby={ids.heading}
      className="rounded-lg border border-red-900 bg-red-950/20 p-5"
      data-testid="delete-account"
    >
      <h2 id={ids.heading} className="text-lg font-semibold text-white">
        Delete account
      </h2>
      <p className="mt-2 text-sm text-slate-300">
        Deleting your irc.now account removes your bouncers and everything the portal holds about
        you. It cannot be undone.
      </p>
      <button
        ref={opener}
        type="button"
        onClick={() => {
          remove.reset();
          setLocalError(null);
          setTyped("");
          setOpen(true);
        }}
        className={`mt-4 rounded-md border border-red-700 px-4 py-2 text-sm font-semibold text-red-200 hover:bg-red-950 ${focusRing}`}
        data-testid="delete-account-open"
      >
        Delete account…
      </button>
      <dialog
        ref={dialog}
        aria-labelledby={ids.title}
        aria-describedby={ids.effect}
        onKeyDown={keepTabInside}
        onCancel={(e) => {
          // Escape must not hide the dialog while the deletion is being recorded or signing out.
          if (remove.isPending || done) e.preventDefault();
        }}
        onClose={() => {
          setOpen(false);
          opener.current?.focus();
        }}
        className="m-auto w-[min(36rem,calc(100vw-2rem))] rounded-lg border border-slate-700 bg-slate-900 p-6 text-slate-200 shadow-2xl backdrop:bg-slate-950/80"
        data-testid="delete-account-dialog"
      >
        <h2 id={ids.title} className="text-lg font-semibold text-white">
          Delete your irc.now account?
        </h2>
        <div id={ids.effect} className="mt-3 space-y-2 text-sm text-slate-300">
          <p>This cannot be undone. Deleting your account:</p>
          <ul className="list-disc space-y-1 pl-5">
            <li>
              deletes every bouncer you have, with its networks, channels and stored messages;
            </li>
            <li>
              deletes your IRC account <span className="font-mono text-slate-100">{username}</span>{" "}
              on the irc.now network;
            </li>
            <li>deletes your IRC app passwords, imports and profile;</li>
            <li>deletes your irc.now sign-in, for every irc.now service;</li>
            <li>signs you out everywhere, right now.</li>
          </ul>
          <p>
            Another person may later sign up with the username{" "}
            <span className="font-mono text-slate-100">{username}</span>.
          </p>
        </div>
        {done ? (
          <div role="status" className="mt-4 space-y-3 text-sm" data-testid="delete-account-done">
            <p className="text-emerald-200">
              Your account is being deleted. {signingOut ? "Signing you out…" : ""}
            </p>
            {signOutFailed && (
              <>
                <p className="text-red-300">
                  This browser could not finish signing out. Your sessions have already ended.
                </p>
                <button
                  type="button"
                  onClick={() => void signOut()}
                  className={`rounded-md border border-slate-600 px-4 py-2 text-slate-200 hover:bg-slate-800 ${focusRing}`}
                >
                  Sign out
                </button>
              </>
            )}
          </div>
        ) : (
          <form
            noValidate
            className="mt-4 space-y-3"
            onSubmit={(e) => {
              e.preventDefault();
              if (typed.trim() === "") {
                setLocalError("Type your username to confirm.");
                remove.reset();
                input.current?.focus();
                return;
              }
              setLocalError(null);
              remove.mutate({ confirmUsername: typed });
            }}
          >
            <div>
              <label htmlFor={ids.input} className="block text-sm font-medium text-slate-200">
                Type your username, <span className="font-mono">{username}</span>, to confirm
              </label>
              <input
                ref={input}
                id={ids.input}
                name="confirmUsername"
                type="text"
                autoComplete="off"
                autoCapitalize="none"
                spellCheck={false}
                value={typed}
                onChange={(e) => {
                  setTyped(e.target.value);
                  if (localError) setLocalError(null);
                }}
                aria-invalid={fieldError !== null}
                aria-describedby={fieldError !== null ? ids.error : undefined}
                className={`mt-1 w-full rounded-md border border-slate-600 bg-slate-950 px-3 py-2 font-mono text-slate-100 ${focusRing}`}
                data-testid="delete-account-confirm-input"
              />
              {/* Always in the page, so screen readers announce the text when it appears. */}
              <p
                id={ids.error}
                role="alert"
                className="mt-1 text-sm text-red-300 empty:hidden"
                data-testid="delete-account-error"
              >
                {fieldError ?? ""}
              </p>
            </div>
            <div className="flex flex-wrap justify-end gap-3 pt-2">
              <button
                type="button"
                onClick={() => setOpen(false)}
                disabled={remove.isPending}
                className={`rounded-md px-4 py-2 text-sm text-slate-300 hover:bg-slate-800 ${focusRing}`}
              >
                Cancel
              </button>
              <button
                type="submit"
                disabled={remove.isPending}
                className={`rounded-md bg-red-700 px-4 py-2 text-sm font-semibold text-white hover:bg-red-800 disabled:cursor-wait disabled:opacity-50 ${focusRing}`}
                data-testid="delete-account-confirm"
              >
                {remove.isPending ? "Deleting…" : "Delete my account"}
              </button>
            </div>
          </form>
        )}
      </dialog>
    </section>
  );
}
