"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { useTRPC, type RouterOutputs } from "~/trpc/react";
import { keepTabInside } from "../../_components/focus-trap";
import { formatDateTime } from "./format";
import { MIN_REASON, REASON_TOO_SHORT, ReasonField } from "./reason-field";
import { ErrorNotice, focusRing } from "./ui";

type ErgoAccount = RouterOutputs["admin"]["bouncer"]["ergoAccount"];

/**
 * The bouncer's ergo account as the portal knows it and, when the bouncer waits for an admin
 * because the account exists and the portal does not own it, the "Adopt account" action behind
 * a confirmation dialog.
 */
export function ErgoAccountPanel({
  name,
  ergoAccount,
  waitingForAdmin,
}: {
  name: string;
  ergoAccount: ErgoAccount;
  waitingForAdmin: boolean;
}) {
  const ids = { heading: useId() };
  const [adopted, setAdopted] = useState(false);
  const { account, ownership, owner, adopt } = ergoAccount;
  return (
    <section
      aria-labelledby={ids.heading}
      className="rounded-lg border border-slate-800 bg-slate-900/50 p-5"
      data-testid="ergo-account"
    >
      <h2 id={ids.heading} className="text-lg font-semibold text-white">
        ergo account
      </h2>
      <dl className="mt-3 grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2 text-sm">
        <dt className="text-slate-400">Account</dt>
        <dd className="font-mono text-slate-200">{account}</dd>
        <dt className="text-slate-400">Owned by the portal</dt>
        <dd className="text-slate-200" data-testid="ergo-account-ownership">
          {ownership ? (
            <>
              Yes, for{" "}
              <span className="font-mono">{ownership.ownerUsername ?? ownership.ownerUserId}</span>{" "}
              (
              {ownership.origin === "adopted"
                ? `adopted by ${ownership.adoptedBy ?? "an admin"}`
                : "registered by the portal"}
              , {formatDateTime(ownership.createdAt)})
            </>
          ) : (
            "No"
          )}
        </dd>
      </dl>
      {adopted ? (
        <p
          role="status"
          className="mt-4 rounded-md border border-emerald-800 bg-emerald-950/40 p-3 text-sm text-emerald-200"
          data-testid="adopt-status"
        >
          Adopted. Setup runs again for <span className="font-mono">{name}</span> and resets the
          account&apos;s password to the user&apos;s irc.now credential.
        </p>
      ) : adopt.offered ? (
        <AdoptAction
          name={name}
          account={account}
          ownerUsername={owner?.username ?? "the bouncer's owner"}
          onAdopted={() => setAdopted(true)}
        />
      ) : (
        waitingForAdmin &&
        adopt.why && (
          <p className="mt-4 text-sm text-slate-300" data-testid="adopt-unavailable">
            {adopt.why}
          </p>
        )
      )}
    </section>
  );
}

function AdoptAction({
  name,
  account,
  ownerUsername,
  onAdopted,
}: {
  name: string;
  account: string;
  ownerUsername: string;
  onAdopted: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const ids = { title: useId(), effect: useId() };
  const dialog = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [localError, setLocalError] = useState<string | null>(null);

  const adopt = useMutation(
    trpc.admin.adoptAccount.mutationOptions({
      onSuccess: async () => {
        setOpen(false);
        onAdopted();
        await queryClient.invalidateQueries(trpc.admin.pathFilter());
      },
      onError: (error) => {
        if (error.data?.fieldErrors?.reason) textarea.current?.focus();
      },
    }),
  );

  // A modal <dialog>: the browser keeps focus inside it and closes it on Escape.
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) {
      d.showModal();
      textarea.current?.focus();
    }
    if (!open && d.open) d.close();
  }, [open]);

  const fieldError = localError ?? adopt.error?.data?.fieldErrors?.reason ?? null;
  const otherError = adopt.error && !adopt.error.data?.fieldErrors?.reason ? adopt.error : null;

  return (
    <div className="mt-4">
      <p className="text-sm text-slate-300">
        This account exists on ergo and the portal does not own it, so the worker will not touch it.
        If it belongs to <span className="font-mono">{ownerUsername}</span>, adopt it.
      </p>
      <button
        ref={opener}
        type="button"
        onClick={() => {
          adopt.reset();
          setLocalError(null);
          setOpen(true);
        }}
        className={`mt-3 rounded-md bg-amber-400 px-4 py-2 text-sm font-semibold text-slate-950 hover:bg-amber-300 ${focusRing}`}
        data-testid="adopt-open"
      >
        Adopt account…
      </button>
      <dialog
        ref={dialog}
        aria-labelledby={ids.title}
        aria-describedby={ids.effect}
        onKeyDown={keepTabInside}
        onClose={() => {
          setOpen(false);
          opener.current?.focus();
        }}
        className="m-auto w-[min(36rem,calc(100vw-2rem))] rounded-lg border border-slate-700 bg-slate-900 p-6 text-slate-200 shadow-2xl backdrop:bg-slate-950/80"
        data-testid="adopt-dialog"
      >
        <h2 id={ids.title} className="text-lg font-semibold text-white">
          Adopt ergo account <span className="font-mono">{account}</span>?
        </h2>
        <div id={ids.effect} className="mt-3 space-y-2 text-sm text-slate-300">
          <p>
            The portal takes the account over for{" "}
            <span className="font-mono text-slate-100">{ownerUsername}</span>: setup runs again and
            resets the account&apos;s password to the user&apos;s irc.now credential.
          </p>
          <p>
            Whoever logs in to <span className="font-mono">{account}</span> with its current
            password will no longer be able to. Only adopt an account you know belongs to this user.
          </p>
          <p>Your name and reason go into the audit log.</p>
        </div>
        <form
          noValidate
          className="mt-4 space-y-3"
          onSubmit={(e) => {
            e.preventDefault();
            const trimmed = reason.trim();
            if (trimmed.length < MIN_REASON) {
              setLocalError(REASON_TOO_SHORT);
              adopt.reset();
              textarea.current?.focus();
              return;
            }
            setLocalError(null);
            adopt.mutate({ name, reason: trimmed });
          }}
        >
          <ReasonField
            textarea={textarea}
            value={reason}
            onChange={setReason}
            onLongEnough={() => setLocalError(null)}
            error={fieldError}
            placeholder="e.g. the user registered it on IRC before signing up"
            testId="adopt-reason"
          />
          {otherError && <ErrorNotice error={otherError} prefix="The account was not adopted:" />}
          <div className="flex flex-wrap justify-end gap-3 pt-2">
            <button
              type="button"
              onClick={() => setOpen(false)}
              className={`rounded-md px-4 py-2 text-sm text-slate-300 hover:bg-slate-800 ${focusRing}`}
            >
              Cancel
            </button>
            <button
              type="submit"
              disabled={adopt.isPending}
              className={`rounded-md bg-amber-400 px-4 py-2 text-sm font-semibold text-slate-950 hover:bg-amber-300 disabled:cursor-wait disabled:opacity-50 ${focusRing}`}
              data-testid="adopt-confirm"
            >
              {adopt.isPending ? "Adopting…" : "Adopt account"}
            </button>
          </div>
        </form>
      </dialog>
    </div>
  );
}
