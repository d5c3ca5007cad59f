import Link from "next/link";
import { currentSession } from "~/server/auth/session";
import { PageMain } from "./_components/page-main";
import { SignInButton } from "./_components/sign-in-button";
import { SiteHeader } from "./_components/site-header";

/** What irc.now does today, each with the page that shows or explains it. */
const features = [
  {
    title: "Always connected",
    body: "Your own soju bouncer stays on IRC while your laptop sleeps, and plays back what you missed when you come back.",
    link: { href: "/help#history", label: "How your history is kept" },
  },
  {
    title: "Any client, every device",
    body: "Connect WeeChat, irssi, HexChat, Halloy or Goguma to your bouncer, one or several at a time.",
    link: { href: "/help#connect", label: "How to connect a client" },
  },
  {
    title: "Signed in to irc.now",
    body: "Your bouncer logs in to the irc.now network with your own account over SASL, set up for you.",
    link: { href: "/help#irc-now", label: "What the setup steps mean" },
  },
  {
    title: "Bring your networks",
    body: "Add Libera.Chat, OFTC or any other network to the same bouncer from your IRC client.",
    link: { href: "/help#networks", label: "How to add a network" },
  },
];

const steps = [
  "Sign in with your irc.now account.",
  "Create your bouncer. Setup runs by itself, and your dashboard shows each step as it happens.",
  "Point your IRC client at it with the details your dashboard shows.",
];

export const dynamic = "force-dynamic";

export default async function LandingPage() {
  const session = await currentSession().catch(() => null);
  return (
    <div className="flex min-h-screen flex-col">
      <SiteHeader session={session} />

      <PageMain className="flex-1">
        <section className="mx-auto max-w-5xl px-4 pt-16 pb-20 sm:px-6 sm:pt-24">
          <p className="font-mono text-sm text-emerald-400">hosted soju bouncers</p>
          <h1 className="mt-3 max-w-3xl text-4xl font-bold tracking-tight text-white sm:text-6xl">
            Your IRC, always on.
          </h1>
          <p className="mt-6 max-w-2xl text-lg leading-8 text-slate-300">
            irc.now runs a personal IRC bouncer for you. It keeps your connections open, stores your
            history and lets every client you own pick up exactly where you left off.
          </p>
          <div className="mt-10 flex flex-wrap items-center gap-4">
            {session ? (
              <Link
                href="/dashboard"
                className="rounded-md bg-emerald-500 px-5 py-3 text-base font-semibold text-slate-950 shadow hover:bg-emerald-400 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-300"
              >
                Go to your dashboard
              </Link>
            ) : (
              <SignInButton className="rounded-md bg-emerald-500 px-5 py-3 text-base font-semibold text-slate-950 shadow hover:bg-emerald-400 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-300">
                Sign in to get your bouncer
              </SignInButton>
            )}
            <a
              href="#how-it-works"
              className="rounded text-base font-medium text-slate-300 hover:text-white focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400"
            >
              How it works <span aria-hidden="true">→</span>
            </a>
          </div>
          <pre
            aria-label="Example IRC session"
            className="mt-14 rounded-lg border border-slate-800 bg-slate-900/70 p-5 font-mono text-sm leading-6 break-words whitespace-pre-wrap text-slate-300"
          >
            <span className="text-slate-400">[09:14]</span>{" "}
            <span className="text-emerald-400">*</span> Now talking on #irc-now{"\n"}
            <span className="text-slate-400">[09:14]</span>{" "}
            <span className="text-sky-400">&lt;soju&gt;</span> Playback of 312 messages since you
            left
            {"\n"}
            <span className="text-slate-400">[09:15]</span>{" "}
            <span className="text-amber-300">&lt;alice&gt;</span> morning! did the build go green
            overnight?
          </pre>
        </section>

        <section
          aria-labelledby="features-heading"
          className="border-t border-slate-900 bg-slate-900/40"
        >
          <div className="mx-auto max-w-5xl px-4 py-16 sm:px-6">
            <h2 id="features-heading" className="text-2xl font-semibold text-white">
              What you get
            </h2>
            <ul className="mt-8 grid gap-6 sm:grid-cols-2">
              {features.map((f) => (
                <li
                  key={f.title}
                  className="flex flex-col rounded-lg border border-slate-800 bg-slate-950 p-6"
                >
                  <h3 className="font-semibold text-white">{f.title}</h3>
                  <p className="mt-2 flex-1 text-sm leading-6 text-slate-400">{f.body}</p>
                  <Link
                    href={f.link.href}
                    className="mt-4 self-start rounded text-sm font-medium text-emerald-300 underline-offset-4 hover:text-emerald-200 hover:underline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400"
                  >
                    {f.link.label} <span aria-hidden="true">→</span>
                  </Link>
                </li>
              ))}
            </ul>
          </div>
        </section>

        <section
          id="how-it-works"
          aria-labelledby="how-heading"
          className="mx-auto max-w-5xl px-4 py-16 sm:px-6"
        >
          <h2 id="how-heading" className="text-2xl font-semibold text-white">
            How it works
          </h2>
          <ol className="mt-8 space-y-4">
            {steps.map((step, i) => (
              <li key={step} className="flex gap-4">
                <span className="flex h-8 w-8 shrink-0 items-center justify-center rounded-full bg-emerald-500/15 font-mono text-sm text-emerald-300">
                  {i + 1}
                </span>
                <span className="pt-1 text-slate-300">{step}</span>
              </li>
            ))}
          </ol>
        </section>
      </PageMain>

      <footer className="border-t border-slate-900">
        <div className="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-4 px-4 py-8 text-sm text-slate-400 sm:px-6">
          <span>irc.now — hosted IRC bouncers, powered by soju and ergo.</span>
          <Link
            href="/help"
            className="rounded hover:text-white focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400"
          >
            Help
          </Link>
        </div>
      </footer>
    </div>
  );
}
