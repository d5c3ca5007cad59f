"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { TRPCClientErrorLike } from "@trpc/client";
import Link from "next/link";
import { useEffect, useId, useRef, useState } from "react";
import type { AppRouter } from "~/server/api/root";
import { useTRPC, type RouterOutputs } from "~/trpc/react";

type Preview = RouterOutputs["import"]["preview"];
type Job = NonNullable<RouterOutputs["import"]["status"]["job"]>;
type AppError = TRPCClientErrorLike<AppRouter>;

const focusRing =
  "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400";
const button = `rounded-md px-4 py-2 font-medium ${focusRing}`;
const primary = `${button} bg-emerald-500 font-semibold text-slate-950 hover:bg-emerald-400 disabled:opacity-50`;
const secondary = `${button} border border-slate-600 text-slate-200 hover:bg-slate-800`;
const input =
  "mt-1 block w-full max-w-md rounded-md border border-slate-600 bg-slate-950 px-3 py-2 text-slate-100";

function errorText(error: AppError): string {
  if (!error.data) return "Could not reach irc.now. Check your connection and try again.";
  return error.message;
}

/**
 * Three steps: IRCCloud credentials → preview and choice → progress. The server keeps the job,
 * so leaving the page changes nothing and coming back shows the latest import where it is.
 */
export function ImportFlow() {
  const trpc = useTRPC();
  const [preview, setPreview] = useState<Preview | null>(null);
  const [again, setAgain] = useState(false);
  const status = useQuery(
    trpc.import.status.queryOptions(undefined, {
      refetchInterval: (q) => {
        const s = q.state.data?.job?.state;
        return s === "queued" || s === "running" ? 1_000 : false;
      },
    }),
  );
  const job = status.data?.job ?? null;
  const active = job && (job.state === "queued" || job.state === "running");

  if (status.isPending) return <p className="mt-8 text-slate-400">Loading…</p>;
  if (job && (active || !again)) return <Progress job={job} onAgain={() => setAgain(true)} />;
  if (preview)
    return (
      <ChooseStep
        preview={preview}
        onBack={() => setPreview(null)}
        onStarted={() => {
          setPreview(null);
          setAgain(false);
        }}
      />
    );
  return <CredentialsStep onPreview={setPreview} />;
}

function StepHeading({ n, children }: { n: number; children: React.ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  // Each step's heading takes focus, so keyboard and screen reader users start there.
  useEffect(() => ref.current?.focus(), []);
  return (
    <h2 ref={ref} tabIndex={-1} className={`text-xl font-semibold text-white ${focusRing}`}>
      <span className="block text-sm font-normal text-slate-400">Step {n} of 3</span>
      {children}
    </h2>
  );
}

function CredentialsStep({ onPreview }: { onPreview: (p: Preview) => void }) {
  const trpc = useTRPC();
  const emailId = useId();
  const passwordId = useId();
  const noteId = useId();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const preview = useMutation(
    trpc.import.preview.mutationOptions({
      onSuccess: (p) => {
        setPassword("");
        onPreview(p);
      },
    }),
  );
  return (
    <section className="mt-8 rounded-lg border border-slate-800 bg-slate-900/50 p-4 sm:p-6">
      <StepHeading n={1}>Sign in to IRCCloud</StepHeading>
      <p id={noteId} className="mt-2 text-sm text-slate-300">
        Your IRCCloud email and password are used once, to read your networks and channels, and are
        not stored or logged. Nothing is changed in IRCCloud.
      </p>
      <form
        className="mt-4 space-y-4"
        onSubmit={(e) => {
          e.preventDefault();
          if (!preview.isPending) preview.mutate({ email, password });
        }}
      >
        <div>
          <label htmlFor={emailId} className="block text-sm font-medium text-slate-200">
            IRCCloud email
          </label>
          <input
            id={emailId}
            name="irccloud-email"
            type="email"
            required
            autoComplete="off"
            aria-describedby={noteId}
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            className={input}
          />
        </div>
        <div>
          <label htmlFor={passwordId} className="block text-sm font-medium text-slate-200">
            IRCCloud password
          </label>
          <input
            id={passwordId}
            name="irccloud-password"
            type="password"
            required
            autoComplete="off"
            aria-describedby={noteId}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            className={input}
          />
        </div>
        <div role="alert" data-testid="import-error" className="empty:hidden">
          {preview.isError && (
            <p className="rounded-md border border-red-900 bg-red-950/40 p-3 text-sm text-red-200">
              {errorText(preview.error)}
            </p>
          )}
        </div>
        <button type="submit" className={primary} disabled={preview.isPending}>
          {preview.isPending ? "Reading your IRCCloud account…" : "Show what would be imported"}
        </button>
      </form>
    </section>
  );
}

function ChooseStep({
  preview,
  onBack,
  onStarted,
}: {
  preview: Preview;
  onBack: () => void;
  onStarted: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [selected, setSelected] = useState<Set<string>>(
    () =>
      new Set(
        preview.networks.flatMap((n) => [
          ...(n.selected ? [n.id] : []),
          ...n.channels.filter((c) => c.selected).map((c) => c.id),
        ]),
      ),
  );
  const toggle = (id: string, on: boolean) =>
    setSelected((s) => {
      const next = new Set(s);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const start = useMutation(
    trpc.import.start.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries(trpc.import.status.queryFilter());
        onStarted();
      },
    }),
  );
  const chosenNetworks = preview.networks.filter((n) => selected.has(n.id)).length;
  return (
    <section className="mt-8 rounded-lg border border-slate-800 bg-slate-900/50 p-4 sm:p-6">
      <StepHeading n={2}>Choose what to import</StepHeading>
      <p className="mt-2 text-sm text-slate-300">
        {preview.bouncer
          ? `Into your bouncer ${preview.bouncer}.`
          : "You have no bouncer yet: one is created for you when the import starts."}{" "}
        Archived channels are not selected; select them if you want them back.
      </p>
      {preview.warnings.length > 0 && (
        <ul className="mt-4 space-y-2" aria-label="Warnings">
          {preview.warnings.map((w) => (
            <li
              key={w}
              className="rounded-md border border-amber-800 bg-amber-950/40 p-3 text-sm text-amber-200"
            >
              {w}
            </li>
          ))}
        </ul>
      )}
      <form
        className="mt-6 space-y-6"
        onSubmit={(e) => {
          e.preventDefault();
          if (!start.isPending) start.mutate({ jobId: preview.jobId, selected: [...selected] });
        }}
      >
        {preview.networks.map((n) => (
          <fieldset
            key={n.id}
            className="rounded-md border border-slate-700 p-4"
            data-testid={`network-${n.name}`}
          >
            <legend className="px-1 font-semibold text-white">{n.name}</legend>
            <label className="flex items-start gap-2 text-slate-200">
              <input
                type="checkbox"
                className="mt-1"
                checked={selected.has(n.id)}
                onChange={(e) => toggle(n.id, e.target.checked)}
              />
              <span>
                Import network {n.name}
                <span className="block text-sm text-slate-400">
                  {n.host}, port {n.port}, {n.tls ? "TLS" : "no TLS"}, nick{" "}
                  <span className="font-mono">{n.nick}</span>
                  {n.hasServerPassword ? ", with its server password" : ""}
                </span>
              </span>
            </label>
            {n.warnings.length > 0 && (
              <ul className="mt-2 list-disc space-y-1 pl-6 text-sm text-amber-200">
                {n.warnings.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            )}
            {n.channels.length > 0 && (
              <fieldset className="mt-3 ml-6" disabled={!selected.has(n.id)}>
                <legend className="text-sm text-slate-300">Channels on {n.name}</legend>
                <ul className="mt-1 space-y-1">
                  {n.channels.map((c) => (
                    <li key={c.id}>
                      <label className="flex items-start gap-2 text-slate-200">
                        <input
                          type="checkbox"
                          className="mt-1"
                          checked={selected.has(c.id)}
                          onChange={(e) => toggle(c.id, e.target.checked)}
                        />
                        <span>
                          <span className="font-mono">{c.name}</span>
                          {c.archived ? " (archived)" : ""}
                          {c.keyed ? " (has a key)" : ""}
                          {c.warnings.map((w) => (
                            <span key={w} className="block text-sm text-amber-200">
                              {w}
                            </span>
                          ))}
                        </span>
                      </label>
                    </li>
                  ))}
                </ul>
              </fieldset>
            )}
          </fieldset>
        ))}
        <div role="alert" data-testid="import-error" className="empty:hidden">
          {start.isError && (
            <p className="rounded-md border border-red-900 bg-red-950/40 p-3 text-sm text-red-200">
              {errorText(start.error)}
            </p>
          )}
        </div>
        <div className="flex flex-wrap gap-3">
          <button
            type="submit"
            className={primary}
            disabled={start.isPending || chosenNetworks === 0}
          >
            {start.isPending
              ? "Starting…"
              : `Import ${chosenNetworks} network${chosenNetworks === 1 ? "" : "s"}`}
          </button>
          <button type="button" className={secondary} onClick={onBack}>
            Back
          </button>
        </div>
      </form>
    </section>
  );
}

const stateText: Record<Job["steps"][number]["state"], string> = {
  pending: "waiting",
  applying: "in progress",
  done: "done",
  skipped: "skipped",
  failed: "failed",
};
const stateClass: Record<Job["steps"][number]["state"], string> = {
  pending: "text-slate-400",
  applying: "text-sky-300",
  done: "text-emerald-300",
  skipped: "text-slate-300",
  failed: "text-red-300",
};

function Progress({ job, onAgain }: { job: Job; onAgain: () => void }) {
  const finished = job.state === "succeeded" || job.state === "failed";
  const { done, skipped, failed, pending } = job.counts;
  const summary = finished
    ? job.state === "failed"
      ? `The import stopped: ${job.error ?? "an error"}`
      : `Import finished: ${done} done, ${skipped} skipped, ${failed} failed.`
    : `Importing… ${done + skipped + failed} of ${done + skipped + failed + pending} steps finished.`;
  return (
    <section className="mt-8 rounded-lg border border-slate-800 bg-slate-900/50 p-4 sm:p-6">
      <StepHeading n={3}>{finished ? "Import finished" : "Importing"}</StepHeading>
      <p className="mt-2 text-sm text-slate-300">
        {finished
          ? `Into your bouncer ${job.bouncer ?? ""}.`
          : "This goes on by itself: you can leave this page and come back to see where it is."}
      </p>
      <p
        role="status"
        aria-live="polite"
        data-testid="import-summary"
        className="mt-4 font-medium text-white"
      >
        {summary}
      </p>
      <ol className="mt-4 space-y-2" aria-label="Import steps" data-testid="import-steps">
        {job.steps.map((s) => (
          <li
            key={s.id}
            data-state={s.state}
            className="flex flex-wrap justify-between gap-x-4 border-b border-slate-800 pb-2"
          >
            <span className="text-slate-100">
              {s.label}
              {s.detail && <span className="block text-sm text-slate-400">{s.detail}</span>}
            </span>
            <span className={`text-sm font-medium ${stateClass[s.state]}`}>
              {stateText[s.state]}
            </span>
          </li>
        ))}
      </ol>
      {finished && (
        <div className="mt-6 flex flex-wrap gap-3">
          <Link href="/dashboard" className={primary}>
            Go to your dashboard
          </Link>
          <button type="button" className={secondary} onClick={onAgain}>
            Import again
          </button>
        </div>
      )}
    </section>
  );
}
