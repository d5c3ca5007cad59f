"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC, type RouterOutputs } from "~/trpc/react";
import { AppPasswordStatsPanel } from "./app-password-stats";
import { ErgoAccountPanel } from "./adopt-account";
import { AuditTable } from "./audit-table";
import { formatDateTime, formatDuration, stepLabel } from "./format";
import { RetryForm } from "./retry-form";
import {
  ErrorNotice,
  focusRing,
  OutcomeBadge,
  PhaseBadge,
  RelativeTime,
  UpstreamBadge,
  YesNo,
} from "./ui";

type Detail = RouterOutputs["admin"]["bouncer"];
type Attempt = Detail["attempts"][number];

/** One bouncer for admins: status, a Retry form, the attempt timeline and its audit entries. */
export function BouncerDetail({ name }: { name: string }) {
  const trpc = useTRPC();
  const detail = useQuery(trpc.admin.bouncer.queryOptions({ name }, { refetchInterval: 5_000 }));

  return (
    <>
      <Link
        href="/admin"
        className={`rounded text-sm text-slate-400 hover:text-white ${focusRing}`}
      >
        <span aria-hidden="true">← </span>All bouncers
      </Link>
      <div className="mt-3 flex flex-wrap items-center gap-3">
        <h1 className="font-mono text-3xl font-bold break-all text-white">{name}</h1>
        {detail.data && <PhaseBadge phase={detail.data.bouncer.phase} />}
      </div>

      {detail.isError && (
        <ErrorNotice
          error={detail.error}
          prefix={
            detail.data
              ? "Could not refresh this bouncer:"
              : detail.error.data?.code === "NOT_FOUND"
                ? undefined
                : "Could not load this bouncer:"
          }
          className="mt-6"
        />
      )}
      {detail.isPending && <p className="mt-6 text-slate-400">Loading the bouncer…</p>}
      {detail.data && <DetailBody name={name} data={detail.data} />}
    </>
  );
}

function DetailBody({ name, data }: { name: string; data: Detail }) {
  const { bouncer, attempts, audit, ergoAccount } = data;
  const timeline = [...attempts].sort((a, b) => b.attemptNo - a.attemptNo);
  const needsAdmin = bouncer.phase === "needs_admin";
  return (
    <div className="mt-6 space-y-10">
      {needsAdmin ? (
        <div
          role="status"
          className="rounded-md border border-red-800 bg-red-950/40 p-4 text-sm text-red-100"
          data-testid="needs-admin"
        >
          <p className="font-semibold">
            Needs admin: setup stopped on a problem that retrying cannot fix.
          </p>
          <p className="mt-1 font-mono text-xs break-words whitespace-pre-wrap text-red-200">
            {bouncer.lastAttempt?.error ?? "The worker gave no reason."}
          </p>
          <p className="mt-2 text-red-200/90">
            The user sees that irc.now staff are looking into it, without these details.
          </p>
        </div>
      ) : (
        bouncer.problem && (
          <p
            role="status"
            className="rounded-md border border-amber-800 bg-amber-950/40 p-3 text-sm text-amber-200"
          >
            {bouncer.problem}
          </p>
        )
      )}

      <div className="grid gap-6 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <section
          aria-labelledby="status-heading"
          className="rounded-lg border border-slate-800 bg-slate-900/50 p-5"
        >
          <h2 id="status-heading" className="text-lg font-semibold text-white">
            Status
          </h2>
          <dl className="mt-4 grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-[max-content_1fr]">
            <Item term="Phase">
              <PhaseBadge phase={bouncer.phase} />
            </Item>
            <Item term="Ready">
              <YesNo value={bouncer.ready} />
            </Item>
            <Item term="Configured">
              <YesNo value={bouncer.configured} />
            </Item>
            <Item term="Upstream login">
              <UpstreamBadge state={bouncer.upstream?.state ?? null} />
              {bouncer.upstream && (
                <div className="mt-1 space-y-0.5 text-xs text-slate-400">
                  {bouncer.upstream.account && (
                    <div>
                      as{" "}
                      <span className="font-mono text-slate-200">{bouncer.upstream.account}</span>
                    </div>
                  )}
                  {bouncer.upstream.detail && <div>{bouncer.upstream.detail}</div>}
                  <div>
                    checked <RelativeTime date={bouncer.upstream.checkedAt} />
                  </div>
                </div>
              )}
            </Item>
            <Item term="Last attempt">
              {bouncer.lastAttempt ? (
                <span className="inline-flex flex-wrap items-center gap-2">
                  <OutcomeBadge outcome={bouncer.lastAttempt.outcome} />
                  <span className="text-slate-300">
                    #{bouncer.lastAttempt.attemptNo} ·{" "}
                    {stepLabel[bouncer.lastAttempt.step] ?? bouncer.lastAttempt.step}
                  </span>
                </span>
              ) : (
                <span className="text-slate-400">No attempts yet</span>
              )}
            </Item>
            <Item term="Username">
              <span className="font-mono text-slate-200">{bouncer.username}</span>
            </Item>
            <Item term="Owner ID">
              <span className="font-mono text-xs break-all text-slate-400">
                {bouncer.ownerId ?? "No owner label"}
              </span>
            </Item>
            <Item term="Plan">
              <span className="text-slate-200">{bouncer.plan}</span>
            </Item>
            <Item term="Created">
              <span className="text-slate-200">
                {bouncer.createdAt ? formatDateTime(bouncer.createdAt) : "Unknown"}
              </span>
            </Item>
            <Item term="Connection">
              <span className="font-mono break-all text-slate-200">
                {bouncer.connection.host}:{bouncer.connection.port}
              </span>
              <span className="text-slate-400"> · {bouncer.connection.tls ? "TLS" : "no TLS"}</span>
            </Item>
          </dl>
        </section>

        <div className="space-y-6">
          <ErgoAccountPanel name={name} ergoAccount={ergoAccount} waitingForAdmin={needsAdmin} />
          <AppPasswordStatsPanel name={name} />
          <RetryForm name={name} />
        </div>
      </div>

      <section aria-labelledby="attempts-heading">
        <h2 id="attempts-heading" className="text-xl font-semibold text-white">
          Setup attempts
        </h2>
        <p className="mt-1 text-sm text-slate-400">
          Newest first. The worker records one attempt each time it runs setup. Only this
          bouncer&apos;s attempts are shown, not those of an earlier bouncer with the same name.
        </p>
        {timeline.length === 0 ? (
          <p className="mt-4 rounded-lg border border-dashed border-slate-700 p-6 text-center text-slate-400">
            The worker has not tried to set this bouncer up yet. Setup starts once the bouncer is
            ready.
          </p>
        ) : (
          <ol
            className="mt-4 space-y-3 border-l border-slate-800 pl-5"
            aria-label="Setup attempts, newest first"
          >
            {timeline.map((attempt) => (
              <AttemptItem key={attempt.id} attempt={attempt} />
            ))}
          </ol>
        )}
      </section>

      <section aria-labelledby="audit-heading">
        <h2 id="audit-heading" className="text-xl font-semibold text-white">
          Admin actions
        </h2>
        <p className="mt-1 mb-4 text-sm text-slate-400">
          Audit entries for this bouncer, newest first.
        </p>
        <AuditTable
          rows={audit}
          caption={`Audit entries for ${name}`}
          showTarget={false}
          empty="No admin has acted on this bouncer yet."
        />
      </section>
    </div>
  );
}

function Item({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <div className="contents">
      <dt className="text-slate-400">{term}</dt>
      <dd className="-mt-2 sm:mt-0">{children}</dd>
    </div>
  );
}

const dotClass: Record<Attempt["outcome"], string> = {
  succeeded: "bg-emerald-400",
  failed: "bg-red-400",
  needs_admin: "bg-orange-400",
  running: "bg-sky-400",
};

function AttemptItem({ attempt }: { attempt: Attempt }) {
  const durationMs =
    attempt.durationMs ??
    (attempt.finishedAt ? attempt.finishedAt.getTime() - attempt.startedAt.getTime() : null);
  return (
    <li
      className="relative rounded-lg border border-slate-800 bg-slate-900/50 p-4"
      data-testid={`attempt-${attempt.attemptNo}`}
    >
      <span
        aria-hidden="true"
        className={`absolute top-5 -left-[1.6rem] h-2.5 w-2.5 rounded-full ring-4 ring-slate-950 ${dotClass[attempt.outcome]}`}
      />
      <div className="flex flex-wrap items-center gap-3">
        <h3 className="font-semibold text-white">Attempt #{attempt.attemptNo}</h3>
        <OutcomeBadge outcome={attempt.outcome} />
      </div>
      <dl className="mt-3 grid gap-x-6 gap-y-1 text-sm sm:grid-cols-4">
        <div>
          <dt className="text-xs text-slate-400">Step reached</dt>
          <dd className="text-slate-200">
            {stepLabel[attempt.stepReached] ?? attempt.stepReached}{" "}
            <span className="font-mono text-xs text-slate-400">({attempt.stepReached})</span>
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-400">Started</dt>
          <dd className="text-slate-200">
            <time dateTime={attempt.startedAt.toISOString()}>
              {formatDateTime(attempt.startedAt)}
            </time>
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-400">Duration</dt>
          <dd className="text-slate-200">
            {durationMs !== null ? (
              formatDuration(durationMs)
            ) : attempt.outcome === "running" ? (
              <>
                still running (started <RelativeTime date={attempt.startedAt} />)
              </>
            ) : (
              "Unknown"
            )}
          </dd>
        </div>
        <div>
          <dt className="text-xs text-slate-400">Worker</dt>
          <dd className="font-mono text-xs break-all text-slate-300">
            {attempt.runner ?? "Unknown"}
          </dd>
        </div>
      </dl>
      {attempt.error && (
        <div className="mt-3">
          <p className="text-xs text-slate-400">Error</p>
          <pre className="mt-1 overflow-x-auto rounded-md border border-red-900/60 bg-red-950/30 p-3 font-mono text-xs whitespace-pre-wrap text-red-200">
            {attempt.error}
          </pre>
        </div>
      )}
    </li>
  );
}
