import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { env } from "~/env";
import { retryAfterWords } from "~/server/auth/sign-in-limits";
import { currentSession } from "~/server/auth/session";
import { accountsDb } from "~/server/db";
import { billingOverview, type BillingOverview } from "~/server/domain/billing";
import { PageMain } from "../_components/page-main";
import { SiteHeader } from "../_components/site-header";
import { ActivationWatch } from "./_components/activation-watch";

export const metadata: Metadata = { title: "Billing" };
export const dynamic = "force-dynamic";

type Params = {
  checkout?: string | string[];
  error?: string | string[];
  retry?: string | string[];
};

const focusRing =
  "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400";

const day = new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeZone: "UTC" });
const dayAndTime = new Intl.DateTimeFormat("en-GB", {
  dateStyle: "long",
  timeStyle: "short",
  timeZone: "UTC",
});

function When({ at, withTime = false }: { at: Date; withTime?: boolean }) {
  return (
    <time dateTime={at.toISOString()} className="font-medium text-slate-100">
      {withTime ? `${dayAndTime.format(at)} UTC` : day.format(at)}
    </time>
  );
}

export default async function BillingPage({ searchParams }: { searchParams: Promise<Params> }) {
  const session = await currentSession();
  if (!session) redirect("/signin?callbackUrl=/billing");
  const params = await searchParams;
  const config = env();
  const overview = await billingOverview(accountsDb(), session.user.id, {
    graceDays: config.PRO_GRACE_DAYS,
    quotaFree: config.PLAN_QUOTA_FREE,
    quotaPro: config.PLAN_QUOTA_PRO,
  });
  const one = (v: string | string[] | undefined) => (typeof v === "string" ? v : undefined);
  const checkout = one(params.checkout);
  const error = one(params.error);
  const retry = one(params.retry);
  // While a paid Checkout is being activated, a second click would pay twice.
  const canUpgrade =
    checkout !== "success" &&
    overview.plan === "free" &&
    !["active", "trialing", "past_due", "canceling"].includes(overview.state);
  return (
    <>
      <SiteHeader session={session} />
      <PageMain className="mx-auto max-w-6xl px-4 py-8 sm:px-6 sm:py-10">
        <h1 className="text-3xl font-bold text-white">Billing</h1>
        <p className="mt-2 max-w-3xl text-slate-400">
          Your plan and your pro subscription. Payments are handled by Stripe: irc.now never sees
          your card.
        </p>
        <Notice checkout={checkout} error={error} retry={retry} plan={overview.plan} />
        <section
          aria-labelledby="plan-heading"
          className="mt-8 max-w-3xl rounded-lg border border-slate-800 bg-slate-900/50 p-4 sm:p-6"
        >
          <h2 id="plan-heading" className="text-lg font-semibold text-white">
            Your plan
          </h2>
          <dl className="mt-4 grid gap-x-6 gap-y-3 text-sm sm:grid-cols-[12rem_1fr]">
            <dt className="text-slate-400">Plan</dt>
            <dd className="text-slate-100" data-testid="billing-plan">
              <strong>{overview.plan === "pro" ? "Pro" : "Free"}</strong>
            </dd>
            <dt className="text-slate-400">Subscription</dt>
            <dd className="text-slate-200" data-testid="billing-status">
              <StatusWords overview={overview} />
            </dd>
            <dt className="text-slate-400">Bouncers</dt>
            <dd className="text-slate-200" data-testid="billing-bouncers">
              You have {overview.bouncerCount}; your plan includes {overview.quota}.
              {overview.suspendedCount > 0 && (
                <>
                  {" "}
                  {overview.suspendedCount} {overview.suspendedCount === 1 ? "is" : "are"} suspended
                  over that limit (
                  <Link href="/dashboard" className={`text-emerald-300 underline ${focusRing}`}>
                    see the dashboard
                  </Link>
                  ).
                </>
              )}
            </dd>
          </dl>
          <div className="mt-6 flex flex-wrap gap-3">
            {canUpgrade && (
              <form method="post" action="/api/billing/checkout">
                <button
                  type="submit"
                  className={`rounded-md bg-emerald-500 px-4 py-2 font-semibold text-slate-950 hover:bg-emerald-400 ${focusRing}`}
                >
                  Upgrade to pro
                </button>
              </form>
            )}
            {overview.hasCustomer && (
              <form method="post" action="/api/billing/portal">
                <button
                  type="submit"
                  className={`rounded-md border border-slate-600 px-4 py-2 font-semibold text-slate-100 hover:bg-slate-800 ${focusRing}`}
                >
                  Manage billing
                </button>
              </form>
            )}
          </div>
          {canUpgrade && (
            <p className="mt-3 text-sm text-slate-400">
              Pro includes {config.PLAN_QUOTA_PRO} bouncers and lets you keep your content on other
              irc.now services beyond 90 days. You will see the price on Stripe&apos;s checkout page
              before you pay.
            </p>
          )}
          {overview.hasCustomer && (
            <p className="mt-3 text-sm text-slate-400">
              Manage billing opens Stripe&apos;s billing portal: change your card, see invoices,
              cancel or resume your subscription.
            </p>
          )}
        </section>
      </PageMain>
    </>
  );
}

function StatusWords({ overview: o }: { overview: BillingOverview }) {
  switch (o.state) {
    case "none":
      return <>No subscription: you are on the free plan.</>;
    case "active":
      return o.periodEnd ? (
        <>
          Active. Renews on <When at={o.periodEnd} />.
        </>
      ) : (
        <>Active.</>
      );
    case "trialing":
      return o.periodEnd ? (
        <>
          Trial. The first payment is due on <When at={o.periodEnd} />.
        </>
      ) : (
        <>Trial.</>
      );
    case "past_due":
      return (
        <>
          Payment failed.{" "}
          {o.graceEndsAt && o.plan === "pro" ? (
            <>
              You keep pro until <When at={o.graceEndsAt} withTime />; after that you move to the
              free plan unless a payment goes through.
            </>
          ) : (
            <>You are on the free plan until a payment goes through.</>
          )}{" "}
          Use Manage billing to update your card.
        </>
      );
    case "canceling":
      return o.periodEnd ? (
        <>
          Canceled at the end of the period: you keep pro until <When at={o.periodEnd} />, then it
          does not renew.
        </>
      ) : (
        <>Canceled at the end of the period: it does not renew.</>
      );
    case "canceled":
      return <>Canceled. You are on the free plan.</>;
    case "other":
      return (
        <>
          {o.stripeStatus === "unpaid"
            ? "Unpaid: the payments failed, so you are on the free plan."
            : o.stripeStatus === "incomplete" || o.stripeStatus === "incomplete_expired"
              ? "The first payment did not go through, so you are on the free plan."
              : o.stripeStatus === "paused"
                ? "Paused. You are on the free plan."
                : "Inactive. You are on the free plan."}{" "}
          Use Manage billing to see why.
        </>
      );
  }
}

const errorWords: Record<string, string> = {
  unavailable:
    "We could not reach our payment provider right now. Nothing was charged. Please try again in a few minutes.",
  already_pro: "You already have a pro subscription. Use Manage billing to change or cancel it.",
  no_customer: "There is nothing to manage yet: you have no subscription. Upgrade to pro first.",
  not_found: "Your account was not found. Please sign out and sign in again.",
};

function Notice({
  checkout,
  error,
  retry,
  plan,
}: {
  checkout: string | undefined;
  error: string | undefined;
  retry: string | undefined;
  plan: "free" | "pro";
}) {
  const box = "mt-6 max-w-3xl rounded-md border p-3 text-sm";
  if (error === "rate_limited") {
    const waitS = retry && /^\d{1,5}$/.test(retry) ? Number(retry) : 60;
    return (
      <p
        role="alert"
        data-testid="billing-notice"
        className={`${box} border-amber-800 bg-amber-950/40 text-amber-200`}
      >
        Too many billing requests in a short time. Please try again in {retryAfterWords(waitS)}.
      </p>
    );
  }
  if (error) {
    return (
      <p
        role="alert"
        data-testid="billing-notice"
        className={`${box} border-red-900 bg-red-950/40 text-red-200`}
      >
        {errorWords[error] ?? errorWords.unavailable}
      </p>
    );
  }
  if (checkout === "success") {
    if (plan === "pro")
      return (
        <p
          role="status"
          data-testid="billing-notice"
          className={`${box} border-emerald-800 bg-emerald-950/40 text-emerald-200`}
        >
          Thank you! Your payment went through and you are on the pro plan now.
        </p>
      );
    return <ActivationWatch className={`${box} border-sky-800 bg-sky-950/40 text-sky-200`} />;
  }
  if (checkout === "canceled")
    return (
      <p
        role="status"
        data-testid="billing-notice"
        className={`${box} border-slate-700 bg-slate-900 text-slate-200`}
      >
        Checkout was canceled. You were not charged and your plan has not changed.
      </p>
    );
  return null;
}
