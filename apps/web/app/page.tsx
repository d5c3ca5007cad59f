import Link from "next/link";
import { currentSession } from "~/server/auth/session";
import { SignInButton } from "./_components/sign-in-button";
import { SiteHeader } from "./_components/site-header";

const features = [
  {
    title: "Always connected",
    body: "Your own soju bouncer stays on IRC while your laptop sleeps. Come back to every message you missed.",
  },
  {
    title: "Any client, every device",
    body: "Connect from WeeChat, irssi, Halloy, Goguma or gamja at once. Read state and history follow you.",
  },
  {
    title: "Signed in to irc.now",
    body: "Your bouncer logs in to the irc.now network with your own account over SASL, set up for you.",
  },
  {
    title: "Bring your networks",
    body: "Add Libera.Chat, OFTC or any network you use, or import them from IRCCloud in one step.",
  },
];

const steps = [
  "Sign in with your irc.now account.",
  "Create your bouncer. It is ready in under a minute.",
  "Point your IRC client at it with the details we show you.",
];

export const dynamic = "force-dynamic";

export default async function LandingPage() {
  const session = await currentSession().catch(() => null);
  return (
    <div className="flex min-h-screen flex-col">
      <SiteHeader session={session} />

      <main className="flex-1">
        <section className="mx-auto max-w-5xl px-6 pt-16 pb-20 sm:pt-24">
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
              className="text-base font-medium text-slate-300 hover:text-white"
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
          <div className="mx-auto max-w-5xl px-6 py-16">
            <h2 id="features-heading" className="text-2xl font-semibold text-white">
              What you get
            </h2>
            <ul className="mt-8 grid gap-6 sm:grid-cols-2">
              {features.map((f) => (
                <li key={f.title} className="rounded-lg border border-slate-800 bg-slate-950 p-6">
                  <h3 className="font-semibold text-white">{f.title}</h3>
                  <p className="mt-2 text-sm leading-6 text-slate-400">{f.body}</p>
                </li>
              ))}
            </ul>
          </div>
        </section>

        <section
          id="how-it-works"
          aria-labelledby="how-heading"
          className="mx-auto max-w-5xl px-6 py-16"
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
          <p className="mt-10 text-sm text-slate-400">
            Free accounts get one bouncer. <strong className="text-slate-200">Pro</strong> adds more
            bouncers and control over how long your history is kept.
          </p>
        </section>
      </main>

      <footer className="border-t border-slate-900">
        <div className="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-4 px-6 py-8 text-sm text-slate-400">
          <span>irc.now — hosted IRC bouncers, powered by soju and ergo.</span>
          <span className="font-mono">ircs://irc.now:6697</span>
        </div>
      </footer>
    </div>
  );
}
