"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useId } from "react";
import { useTRPC, type RouterOutputs } from "~/trpc/react";
import { AuditTable } from "../../_components/audit-table";
import { formatDateTime, stepLabel } from "../../_components/format";
import {
  Badge,
  ErrorNotice,
  focusRing,
  OutcomeBadge,
  PhaseBadge,
  RelativeTime,
  UpstreamBadge,
} from "../../_components/ui";
import { deletionStepLabel, subscriptionText } from "./labels";
import { RetryDeletion } from "./retry-deletion";

type Detail = RouterOutputs["adminUsers"]["user"];

const linkClass = `rounded text-emerald-300 underline hover:text-emerald-200 ${focusRing}`;
const tableClass = "w-full text-left text-sm";
const theadClass =
  "border-b border-slate-800 bg-slate-900/70 text-xs tracking-wide text-slate-400 uppercase";

/** One user for admins: profile, billing, bouncers, Keycloak sync, deletion, audit entries. */
export function UserDetail({ username }: { username: string }) {
  const trpc = useTRPC();
  const detail = useQuery(
    trpc.adminUsers.user.queryOptions({ username }, { refetchInterval: 10_000 }),
  );
  return (
    <>
      <Link
        href="/admin/users"
        className={`rounded text-sm text-slate-400 hover:text-white ${focusRing}`}
      >
        <span aria-hidden="true">← </span>All users
      </Link>
      <div className="mt-3 flex flex-wrap items-center gap-3">
        <h1 className="font-mono text-3xl font-bold break-all text-white">{username}</h1>
        {detail.data && (
          <Badge tone={detail.data.billing.plan === "pro" ? "emerald" : "slate"}>
            {detail.data.billing.plan}
          </Badge>
        )}
        {detail.data?.deletion && !detail.data.deletion.completedAt && (
          <Badge tone="red">
            <span aria-hidden="true">!</span>Deletion pending
          </Badge>
        )}
      </div>
      {detail.isError && (
        <ErrorNotice
          error={detail.error}
          prefix={
            detail.data
              ? "Could not refresh this user:"
              : detail.error.data?.code === "NOT_FOUND"
                ? undefined
                : "Could not load this user:"
          }
          className="mt-6"
        />
      )}
      {detail.isPending && <p className="mt-6 text-slate-400">Loading the user…</p>}
      {detail.data && <Body data={detail.data} />}
    </>
  );
}

function Section({
  title,
  children,
  testId,
}: {
  title: string;
  children: React.ReactNode;
  testId: string;
}) {
  const id = useId();
  return (
    <section aria-labelledby={id} data-testid={testId}>
      <h2 id={id} className="text-xl font-semibold text-white">
        {title}
      </h2>
      {children}
    </section>
  );
}

function Facts({ children }: { children: React.ReactNode }) {
  return (
    <dl className="mt-3 grid gap-x-6 gap-y-1.5 text-sm sm:grid-cols-[max-content_1fr]">
      {children}
    </dl>
  );
}

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <>
      <dt className="text-slate-400">{label}</dt>
      <dd className="min-w-0 break-words text-slate-200">{children}</dd>
    </>
  );
}

const Time = ({ date, empty = "never" }: { date: Date | null; empty?: string }) =>
  date ? (
    <time dateTime={date.toISOString()}>{formatDateTime(date)}</time>
  ) : (
    <span className="text-slate-400">{empty}</span>
  );

function Body({ data }: { data: Detail }) {
  const { user, billing, bouncers, outbox, deletion, audit } = data;
  return (
    <div className="mt-6 space-y-10">
      <Section title="Profile" testId="user-profile">
        <Facts>
          <Fact label="Display name">
            {user.displayName ?? <span className="text-slate-400">none</span>}
          </Fact>
          <Fact label="Email">{user.email ?? <span className="text-slate-400">none</span>}</Fact>
          <Fact label="User id">
            <span className="font-mono text-xs">{user.id}</span>
          </Fact>
          <Fact label="Keycloak subject">
            <span className="font-mono text-xs">{user.keycloakSubject}</span>
          </Fact>
          <Fact label="Signed up">
            <Time date={user.createdAt} />
          </Fact>
          <Fact label="Last sign-in">
            <Time date={user.lastLoginAt} /> ({user.loginCount} sign-in
            {user.loginCount === 1 ? "" : "s"})
          </Fact>
          <Fact label="Content auto-expire">{user.contentAutoExpire ? "on" : "off"}</Fact>
        </Facts>
      </Section>

      <Section title="Plan and billing" testId="user-billing">
        <Facts>
          <Fact label="Plan">{billing.plan}</Fact>
          <Fact label="Subscription">
            {subscriptionText(billing.status)}
            {billing.status === "past_due" && (
              <span className="block text-amber-200" data-testid="grace">
                {billing.graceEndsAt ? (
                  <>
                    Keeps pro until <Time date={billing.graceEndsAt} /> (first failed payment{" "}
                    <Time date={billing.pastDueSince} />)
                  </>
                ) : (
                  "No failed payment recorded yet"
                )}
              </span>
            )}
            {billing.cancelAtPeriodEnd && (
              <span className="block text-amber-200" data-testid="cancel-at-period-end">
                Cancels at the period end, <Time date={billing.periodEnd} empty="date unknown" />
              </span>
            )}
          </Fact>
          <Fact label="Period end">
            <Time date={billing.periodEnd} empty="none" />
          </Fact>
          <Fact label="Stripe customer">
            {billing.customerId && billing.customerUrl ? (
              <a
                href={billing.customerUrl}
                target="_blank"
                rel="noopener noreferrer"
                className={`font-mono ${linkClass}`}
                data-testid="stripe-customer"
              >
                {billing.customerId}
                <span className="sr-only"> in the Stripe dashboard (opens in a new tab)</span>
              </a>
            ) : (
              <span className="text-slate-400">none</span>
            )}
          </Fact>
          {billing.subscriptionId && (
            <Fact label="Subscription id">
              <span className="font-mono text-xs">{billing.subscriptionId}</span>
            </Fact>
          )}
        </Facts>
        <h3 className="mt-6 text-base font-semibold text-white">Billing events</h3>
        {billing.events.length === 0 ? (
          <p className="mt-2 text-sm text-slate-400">No Stripe event has been about this user.</p>
        ) : (
          <div
            role="region"
            aria-label="Billing events"
            tabIndex={0}
            className={`mt-2 overflow-x-auto rounded-lg border border-slate-800 ${focusRing}`}
          >
            <table className={`${tableClass} min-w-[40rem]`}>
              <caption className="sr-only">Billing events of {user.username}, newest first</caption>
              <thead className={theadClass}>
                <tr>
                  <th scope="col" className="px-3 py-3 font-medium">
                    Received
                  </th>
                  <th scope="col" className="px-3 py-3 font-medium">
                    Event
                  </th>
                  <th scope="col" className="px-3 py-3 font-medium">
                    Outcome
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-800/80">
                {billing.events.map((e) => (
                  <tr key={e.eventId} className="align-top" data-testid="billing-event">
                    <td className="px-3 py-3 whitespace-nowrap text-slate-300">
                      <Time date={e.receivedAt} />
                    </td>
                    <th scope="row" className="px-3 py-3 text-left font-normal">
                      <div className="font-mono text-slate-100">{e.type}</div>
                      <div className="font-mono text-xs text-slate-400">{e.eventId}</div>
                    </th>
                    <td className="px-3 py-3 text-slate-300">
                      {e.outcome ?? <span className="text-slate-400">not recorded</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>

      <Section title="Bouncers" testId="user-bouncers">
        {bouncers.length === 0 ? (
          <p className="mt-2 text-sm text-slate-400">No bouncers.</p>
        ) : (
          <div
            role="region"
            aria-label="Bouncers"
            tabIndex={0}
            className={`mt-3 overflow-x-auto rounded-lg border border-slate-800 ${focusRing}`}
          >
            <table className={`${tableClass} min-w-[48rem]`}>
              <caption className="sr-only">Bouncers of {user.username}</caption>
              <thead className={theadClass}>
                <tr>
                  {["Name", "Setup", "Upstream login", "Last attempt", "Suspension"].map((h) => (
                    <th key={h} scope="col" className="px-3 py-3 font-medium">
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-800/80">
                {bouncers.map((b) => (
                  <tr key={b.name} className="align-top" data-testid={`user-bouncer-${b.name}`}>
                    <th scope="row" className="px-3 py-3 text-left font-normal">
                      <Link
                        href={`/admin/bouncers/${b.name}`}
                        className={`font-mono font-semibold ${linkClass}`}
                      >
                        {b.name}
                      </Link>
                    </th>
                    <td className="px-3 py-3">
                      <PhaseBadge phase={b.phase} />
                    </td>
                    <td className="px-3 py-3">
                      <UpstreamBadge state={b.upstream?.state ?? null} />
                    </td>
                    <td className="px-3 py-3">
                      {b.lastAttempt ? (
                        <span className="inline-flex flex-wrap items-center gap-2">
                          <OutcomeBadge outcome={b.lastAttempt.outcome} />
                          <span className="text-xs text-slate-400">
                            {stepLabel[b.lastAttempt.step] ?? b.lastAttempt.step}
                          </span>
                        </span>
                      ) : (
                        <span className="text-slate-400">No attempts yet</span>
                      )}
                    </td>
                    <td className="px-3 py-3">
                      {b.suspendedAt ? (
                        <>
                          <Badge tone="amber">Suspended</Badge>
                          <div className="mt-1 text-xs text-slate-300">
                            {b.suspendedReason ?? "no reason recorded"}, since{" "}
                            <RelativeTime date={b.suspendedAt} />
                          </div>
                          <div className="text-xs text-slate-400">
                            soju user{" "}
                            {b.sojuDisabled === true
                              ? "disabled"
                              : b.sojuDisabled === false
                                ? "still enabled (worker catching up)"
                                : "not touched yet"}
                          </div>
                        </>
                      ) : (
                        <span className="text-slate-300">
                          Active
                          {b.sojuDisabled === true && (
                            <span className="block text-xs text-amber-200">
                              soju user still disabled (worker catching up)
                            </span>
                          )}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>

      <Section title="Keycloak sync" testId="user-outbox">
        {outbox.pending === 0 ? (
          <p className="mt-2 text-sm text-slate-300">
            Up to date: nothing waits to reach Keycloak.
          </p>
        ) : (
          <Facts>
            <Fact label="State">
              {outbox.held ? (
                <Badge tone="red">
                  <span aria-hidden="true">!</span>Held: not in Keycloak
                </Badge>
              ) : outbox.stuck ? (
                <Badge tone="amber">Stuck, retrying</Badge>
              ) : (
                <Badge tone="sky">Pending</Badge>
              )}
            </Fact>
            <Fact label="Changes waiting">{outbox.pending}</Fact>
            <Fact label="Failed attempts">{outbox.attempts}</Fact>
            <Fact label="Waiting since">
              <Time date={outbox.oldestAt} />
            </Fact>
            <Fact label="Next attempt">
              {outbox.nextAttemptAt ? (
                <RelativeTime date={outbox.nextAttemptAt} />
              ) : (
                "none until an admin retries"
              )}
            </Fact>
            <Fact label="Last error">
              <span className="font-mono text-xs">{outbox.lastError ?? "none yet"}</span>
            </Fact>
          </Facts>
        )}
        {outbox.pending > 0 && (
          <p className="mt-3 text-sm">
            <Link href="/admin/outbox" className={linkClass}>
              Keycloak sync page
            </Link>{" "}
            <span className="text-slate-400">
              {outbox.stuck ? "lists it with a Retry button." : "lists it once it is stuck."}
            </span>
          </p>
        )}
      </Section>

      {deletion && (
        <Section title="Account deletion" testId="user-deletion">
          <Facts>
            <Fact label="Step">
              {deletionStepLabel[deletion.step] ?? deletion.step}{" "}
              <span className="font-mono text-xs text-slate-400">({deletion.step})</span>
            </Fact>
            <Fact label="Asked for">
              <Time date={deletion.requestedAt} />
            </Fact>
            <Fact label="Failed attempts">{deletion.attempts}</Fact>
            <Fact label="Last error">
              <span className="font-mono text-xs">{deletion.lastError ?? "none"}</span>
            </Fact>
            <Fact label="Next attempt">
              {deletion.completedAt ? (
                "none: finished"
              ) : (
                <RelativeTime date={deletion.nextAttemptAt} />
              )}
            </Fact>
          </Facts>
          {!deletion.completedAt && <RetryDeletion userId={user.id} username={user.username} />}
        </Section>
      )}

      <Section title="Audit entries" testId="user-audit">
        <div className="mt-3">
          <AuditTable
            rows={audit}
            caption={`Audit entries about ${user.username}, newest first`}
            empty="No admin action has been about this user."
          />
        </div>
      </Section>
    </div>
  );
}
