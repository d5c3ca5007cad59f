"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { TRPCClientErrorLike } from "@trpc/client";
import Link from "next/link";
import { useCallback, useEffect, useId, useRef, useState } from "react";
import type { AppRouter } from "~/server/api/root";
import { useTRPC, type RouterOutputs } from "~/trpc/react";
import { keepTabInside } from "../../_components/focus-trap";
import { ConnectClient } from "./connect-client";
import { phaseLabel, StatusSteps } from "./status-steps";
import { useLiveStatus } from "./use-live-status";

type Bouncer = RouterOutputs["bouncer"]["mine"]["bouncers"][number];
type AppError = TRPCClientErrorLike<AppRouter>;

/** The server's bouncer name limit (bouncerNameSchema). */
const MAX_NAME = 63;

const focusRing =
  "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400";
const inputBase =
  "mt-1 block rounded-md border bg-slate-950 px-3 py-2 font-mono text-slate-100 placeholder:text-slate-400";

/** The person-readable text of an error; a hint when the server could not be reached. */
function errorText(error: AppError): string {
  if (!error.data) return "Could not reach irc.now. Check your connection and try again.";
  return error.message;
}

export function BouncerDashboard() {
  const trpc = useTRPC();
  // Live status pushes changes as they happen; polling is then only a slow safety net.
  const live = useLiveStatus(trpc.bouncer.mine.queryKey());
  // Without it: poll while anything is still moving; slow down once every bouncer is settled.
  const mine = useQuery(
    trpc.bouncer.mine.queryOptions(undefined, {
      // A bouncer waiting for staff may wait a while: check every 10 s rather than every 2 s.
      refetchInterval: (query) => {
        if (live) return 60_000;
        const bouncers = query.state.data?.bouncers;
        if (!bouncers) return 2_000;
        if (bouncers.every((b) => b.phase === "authenticated")) return 30_000;
        return bouncers.every((b) => b.phase === "authenticated" || b.phase === "needs_admin")
          ? 10_000
          : 2_000;
      },
    }),
  );
  // A confirmation after an action that removes what had focus (deleting a bouncer): shown in a
  // live region, and focused so keyboard and screen reader users continue from there.
  const [notice, setNotice] = useState<{ text: string; seq: number } | null>(null);
  const noticeRef = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (notice) noticeRef.current?.focus();
  }, [notice]);
  // The bouncer just created: its heading takes focus once its card is on the page.
  const [focusName, setFocusName] = useState<string | null>(null);
  const clearFocusName = useCallback(() => setFocusName(null), []);

  const noticeRegion = (
    <div role="status" data-testid="dashboard-notice" className="empty:hidden">
      {notice && (
        <p
          key={notice.seq}
          ref={noticeRef}
          tabIndex={-1}
          className={`rounded-md border border-emerald-800 bg-emerald-950/40 p-3 text-sm text-emerald-200 ${focusRing}`}
        >
          {notice.text}
        </p>
      )}
    </div>
  );

  if (mine.isPending)
    return (
      <div className="mt-8 space-y-8">
        {noticeRegion}
        <p className="text-slate-400">Loading your bouncers…</p>
      </div>
    );
  if (mine.isError && !mine.data) {
    return (
      <div className="mt-8 space-y-8">
        {noticeRegion}
        <p role="alert" className="rounded-md border border-red-900 bg-red-950/40 p-4 text-red-200">
          {errorText(mine.error)}
        </p>
      </div>
    );
  }
  const { bouncers, quota, plan } = mine.data;
  return (
    <div className="mt-8 space-y-8" data-live={live ? "on" : "off"}>
      {noticeRegion}
      {bouncers.length === 0 && (
        <p className="text-slate-300">
          You have no bouncer yet. Create one below: setup runs by itself, and this page shows each
          step as it happens.
        </p>
      )}
      {bouncers.map((b) => (
        <BouncerCard
          key={b.name}
          bouncer={b}
          bouncerNames={bouncers.map((x) => x.name)}
          takeFocus={focusName === b.name}
          onFocused={clearFocusName}
          onDeleted={(name) =>
            setNotice((n) => ({ text: `${name} was deleted.`, seq: (n?.seq ?? 0) + 1 }))
          }
        />
      ))}
      <CreateBouncerForm
        atQuota={bouncers.length >= quota}
        count={bouncers.length}
        quota={quota}
        plan={plan}
        onCreated={(name) => {
          setNotice(null);
          setFocusName(name);
        }}
      />
    </div>
  );
}

function BouncerCard({
  bouncer,
  takeFocus,
  onFocused,
  onDeleted,
  bouncerNames,
}: {
  bouncer: Bouncer;
  /** All of the user's bouncers: the scopes an app password can have. */
  bouncerNames: string[];
  takeFocus: boolean;
  onFocused: () => void;
  onDeleted: (name: string) => void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (!takeFocus) return;
    heading.current?.focus();
    onFocused();
  }, [takeFocus, onFocused]);
  const headingId = `bouncer-${bouncer.name}`;
  return (
    <section
      aria-labelledby={headingId}
      className="rounded-lg border border-slate-800 bg-slate-900/50 p-4 sm:p-6"
      data-testid={`bouncer-${bouncer.name}`}
    >
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0">
          <h2
            id={headingId}
            ref={heading}
            tabIndex={-1}
            className={`rounded font-mono text-xl font-semibold break-all text-white ${focusRing}`}
          >
            {bouncer.name}
          </h2>
          {/* A live region: when the status changes, screen readers hear which bouncer and what. */}
          <p
            role="status"
            aria-atomic="true"
            className="mt-1 text-sm text-slate-400"
            data-testid="bouncer-status-line"
          >
            <span className="sr-only">{bouncer.name}: </span>
            Status:{" "}
            <strong className="text-slate-100" data-testid="bouncer-status">
              {bouncer.suspension && bouncer.phase !== "deleting"
                ? "Suspended"
                : phaseLabel[bouncer.phase]}
            </strong>
            {!bouncer.suspension &&
              bouncer.upstream?.state === "authenticated" &&
              bouncer.upstream.account && (
                <>
                  {" "}
                  as <span className="font-mono">{bouncer.upstream.account}</span>
                </>
              )}
          </p>
        </div>
        {bouncer.phase !== "deleting" && (
          <DeleteBouncer name={bouncer.name} onDeleted={onDeleted} />
        )}
      </div>
      {bouncer.suspension && bouncer.phase !== "deleting" && (
        <Suspended suspension={bouncer.suspension} />
      )}
      <StatusSteps bouncer={bouncer} />
      {bouncer.detail && !bouncer.problem && (
        <p className="mt-3 text-sm text-slate-400">{bouncer.detail}…</p>
      )}
      <div aria-live="polite" className="empty:hidden">
        {/* A suspended bouncer is disconnected on purpose: "it reconnects by itself" would be
            wrong, and the suspension box above already says what to do. */}
        {bouncer.problem && !bouncer.suspension && (
          <div
            className="mt-4 rounded-md border border-amber-800 bg-amber-950/40 p-3 text-sm text-amber-200"
            data-testid="bouncer-problem"
          >
            <p className="text-xs text-amber-100">Step: {bouncer.problem.step}</p>
            <p className="mt-1">{bouncer.problem.text}</p>
            <p className="mt-1">{bouncer.problem.advice}</p>
          </div>
        )}
      </div>
      <ConnectClient bouncer={bouncer} bouncers={bouncerNames} />
    </section>
  );
}

const sinceFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeStyle: "short" });

/** Why a bouncer is suspended (over its owner's plan) and how to resume it. */
function Suspended({ suspension }: { suspension: NonNullable<Bouncer["suspension"]> }) {
  const since = new Date(suspension.since);
  return (
    <div
      className="mt-4 rounded-md border border-orange-800 bg-orange-950/40 p-3 text-sm text-orange-100"
      data-testid="bouncer-suspended"
    >
      <p>
        {suspension.text} since{" "}
        <time dateTime={since.toISOString()} suppressHydrationWarning>
          {sinceFormat.format(since)}
        </time>
        .
      </p>
      <p className="mt-1">{suspension.advice}</p>
      {suspension.upgrade && (
        <p className="mt-2">
          <Link
            href="/billing"
            className={`rounded font-semibold text-orange-200 underline hover:text-white ${focusRing}`}
          >
            Upgrade to pro on the billing page
          </Link>
        </p>
      )}
    </div>
  );
}

/**
 * "Delete…" and its confirmation: a modal dialog that takes focus (the confirmation field),
 * keeps it (Tab cycles inside, the page behind is inert), closes on Escape or Cancel and gives
 * focus back to "Delete…". After a delete, focus goes to the dashboard's confirmation.
 */
function DeleteBouncer({ name, onDeleted }: { name: string; onDeleted: (name: string) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const ids = { title: useId(), effect: useId(), input: useId(), error: useId() };
  const dialog = useRef<HTMLDialogElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const deleted = useRef(false);
  const [typed, setTyped] = useState("");
  const [localError, setLocalError] = useState<string | null>(null);
  const confirmMessage = `Type "${name}" to confirm that you want to delete this bouncer.`;

  const del = useMutation(
    trpc.bouncer.delete.mutationOptions({
      onSuccess: async () => {
        deleted.current = true;
        dialog.current?.close();
        onDeleted(name);
        await queryClient.invalidateQueries({ queryKey: trpc.bouncer.mine.queryKey() });
      },
      onError: () => input.current?.focus(),
    }),
  );

  // The server refuses a wrong confirmation with BAD_REQUEST: that is about the field.
  const fieldError =
    localError ?? (del.error?.data?.code === "BAD_REQUEST" ? del.error.message : null);
  const otherError = del.error && !fieldError ? errorText(del.error) : null;

  const open = () => {
    deleted.current = false;
    setTyped("");
    setLocalError(null);
    del.reset();
    dialog.current?.showModal();
    input.current?.focus();
  };

  return (
    <>
      <button
        ref={opener}
        type="button"
        onClick={open}
        className={`rounded-md border border-red-900 px-3 py-1.5 text-sm whitespace-nowrap text-red-300 hover:bg-red-950 ${focusRing}`}
      >
        Delete…
      </button>
      <dialog
        ref={dialog}
        aria-labelledby={ids.title}
        aria-describedby={ids.effect}
        onKeyDown={keepTabInside}
        onClose={() => {
          if (!deleted.current) opener.current?.focus();
        }}
        className="m-auto w-[min(32rem,calc(100vw-2rem))] rounded-lg border border-red-900 bg-slate-900 p-6 text-slate-200 shadow-2xl backdrop:bg-slate-950/80"
      >
        <h2 id={ids.title} className="text-lg font-semibold text-red-200">
          Delete {name}?
        </h2>
        <p id={ids.effect} className="mt-2 text-sm text-slate-300">
          This removes the bouncer, its networks and its stored history. It cannot be undone.
        </p>
        <form
          noValidate
          className="mt-4"
          onSubmit={(e) => {
            e.preventDefault();
            if (typed.trim() !== name) {
              del.reset();
              setLocalError(confirmMessage);
              input.current?.focus();
              return;
            }
            setLocalError(null);
            del.mutate({ name, confirmName: typed });
          }}
        >
          <label htmlFor={ids.input} className="block text-sm text-slate-300">
            Type <span className="font-mono text-slate-100">{name}</span> to confirm
          </label>
          <input
            ref={input}
            id={ids.input}
            value={typed}
            onChange={(e) => {
              setTyped(e.target.value);
              if (localError || del.isError) {
                setLocalError(null);
                del.reset();
              }
            }}
            maxLength={MAX_NAME}
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            aria-invalid={fieldError ? true : undefined}
            aria-describedby={fieldError ? ids.error : undefined}
            className={`${inputBase} w-full ${fieldError ? "border-red-500" : "border-slate-700"} ${focusRing}`}
          />
          {fieldError && (
            <p id={ids.error} role="alert" className="mt-2 text-sm text-red-300">
              {fieldError}
            </p>
          )}
          {otherError && (
            <p role="alert" className="mt-2 text-sm text-red-300">
              {otherError}
            </p>
          )}
          <div className="mt-5 flex flex-wrap justify-end gap-3">
            <button
              type="submit"
              disabled={del.isPending}
              className={`rounded-md bg-red-700 px-4 py-2 text-sm font-semibold text-white hover:bg-red-800 disabled:cursor-wait disabled:opacity-50 ${focusRing}`}
            >
              {del.isPending ? "Deleting…" : "Delete bouncer"}
            </button>
            <button
              type="button"
              onClick={() => dialog.current?.close()}
              className={`rounded-md px-3 py-2 text-sm text-slate-300 hover:bg-slate-800 ${focusRing}`}
            >
              Cancel
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}

/** The name field's own problem (its format, a name already taken), or null for other errors. */
function nameError(error: AppError): string | null {
  const fieldErrors = error.data?.fieldErrors as Record<string, string> | null | undefined;
  if (fieldErrors?.name) return fieldErrors.name;
  if (error.data?.code === "CONFLICT" || error.data?.code === "BAD_REQUEST") return error.message;
  return null;
}

function CreateBouncerForm({
  atQuota,
  count,
  quota,
  plan,
  onCreated,
}: {
  atQuota: boolean;
  count: number;
  quota: number;
  plan: "free" | "pro";
  onCreated: (name: string) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = useRef<HTMLInputElement>(null);
  const [name, setName] = useState("");
  const create = useMutation(
    trpc.bouncer.create.mutationOptions({
      onSuccess: async (created) => {
        setName("");
        onCreated(created.name);
        await queryClient.invalidateQueries({ queryKey: trpc.bouncer.mine.queryKey() });
      },
      onError: (error) => {
        if (nameError(error)) input.current?.focus();
      },
    }),
  );
  const fieldError = create.error ? nameError(create.error) : null;
  const otherError = create.error && !fieldError ? errorText(create.error) : null;
  return (
    <section
      aria-labelledby="create-heading"
      className="rounded-lg border border-dashed border-slate-700 p-4 sm:p-6"
    >
      <h2 id="create-heading" className="text-lg font-semibold text-white">
        Create a bouncer
      </h2>
      {atQuota ? (
        <p className="mt-2 text-sm text-slate-400" data-testid="quota-message">
          {count > quota ? (
            // Over the plan's quota after losing pro: the newest are suspended (see their cards).
            <>
              Your {plan} plan includes {quota} bouncer{quota === 1 ? "" : "s"} and you have {count}
              , so the newest are suspended.{" "}
              {plan === "free" ? (
                <>
                  <Link href="/billing" className={`text-emerald-300 underline ${focusRing}`}>
                    Upgrade to pro
                  </Link>{" "}
                  or delete bouncers to make room.
                </>
              ) : (
                "Delete bouncers to make room."
              )}
            </>
          ) : (
            <>
              Your {plan} plan includes {quota} bouncer{quota === 1 ? "" : "s"}, and you are using{" "}
              {quota === 1 ? "it" : "all of them"}. To create another, delete{" "}
              {quota === 1 ? "it" : "one"} first.
            </>
          )}
        </p>
      ) : (
        <form
          noValidate
          className="mt-3 flex flex-wrap items-start gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate({ name: name.trim() });
          }}
        >
          <div className="w-full max-w-64">
            <label htmlFor="bouncer-name" className="block text-sm text-slate-300">
              Name
            </label>
            <input
              ref={input}
              id="bouncer-name"
              value={name}
              onChange={(e) => {
                setName(e.target.value);
                if (create.isError) create.reset();
              }}
              placeholder="e.g. alice"
              maxLength={MAX_NAME}
              autoComplete="off"
              autoCapitalize="none"
              spellCheck={false}
              aria-invalid={fieldError ? true : undefined}
              aria-describedby={
                fieldError ? "bouncer-name-error bouncer-name-help" : "bouncer-name-help"
              }
              className={`${inputBase} w-full ${fieldError ? "border-red-500" : "border-slate-700"} ${focusRing}`}
            />
            {fieldError && (
              <p
                id="bouncer-name-error"
                role="alert"
                data-testid="create-error"
                className="mt-1 text-sm text-red-300"
              >
                {fieldError}
              </p>
            )}
            <p id="bouncer-name-help" className="mt-1 text-xs text-slate-400">
              Lowercase letters, digits and hyphens; up to {MAX_NAME} characters.
            </p>
          </div>
          <button
            type="submit"
            disabled={create.isPending}
            className={`mt-6 rounded-md bg-emerald-500 px-4 py-2 font-semibold text-slate-950 hover:bg-emerald-400 disabled:cursor-wait disabled:opacity-50 ${focusRing}`}
          >
            {create.isPending ? "Creating…" : "Create bouncer"}
          </button>
        </form>
      )}
      {otherError && (
        <p role="alert" data-testid="create-error" className="mt-3 text-sm text-red-300">
          {otherError}
        </p>
      )}
    </section>
  );
}
