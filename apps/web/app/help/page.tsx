import type { Metadata } from "next";
import Link from "next/link";
import { currentSession } from "~/server/auth/session";
import { PageMain } from "../_components/page-main";
import { SiteHeader } from "../_components/site-header";

export const metadata: Metadata = { title: "Help" };
export const dynamic = "force-dynamic";

const linkClass =
  "rounded text-emerald-300 underline underline-offset-4 hover:text-emerald-200 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400";

const sections = [
  { id: "connect", title: "Connect your IRC client" },
  { id: "history", title: "Messages while you are away" },
  { id: "irc-now", title: "Your account on the irc.now network" },
  { id: "networks", title: "Add other networks" },
] as const;

/** How to use a bouncer: what the landing page's promises stand on. */
export default async function HelpPage() {
  const session = await currentSession().catch(() => null);
  return (
    <>
      <SiteHeader session={session} />
      <PageMain className="mx-auto max-w-3xl px-4 py-10 sm:px-6 sm:py-14">
        <h1 className="text-3xl font-bold text-white">Using your bouncer</h1>
        <nav aria-label="On this page" className="mt-6">
          <ul className="flex flex-wrap gap-x-6 gap-y-2 text-sm">
            {sections.map((s) => (
              <li key={s.id}>
                <a href={`#${s.id}`} className={linkClass}>
                  {s.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>

        <div className="mt-10 space-y-12 leading-7 text-slate-300">
          <section id="connect" aria-labelledby="connect-heading" className="scroll-mt-6">
            <h2 id="connect-heading" className="text-xl font-semibold text-white">
              Connect your IRC client
            </h2>
            <p className="mt-3">
              Your{" "}
              <Link href="/dashboard" className={linkClass}>
                dashboard
              </Link>{" "}
              shows what to enter for each of your bouncers: the server, the port, whether to use
              TLS, and the login. In your client, add a new server (or network) with those details.
              Any client that connects to an IRC server over TLS works, for example WeeChat, irssi,
              HexChat, Halloy or Goguma.
            </p>
            <p className="mt-3">
              You can connect several clients at the same time: each one joins the same channels,
              and what you send from one shows up in the others.
            </p>
          </section>

          <section id="history" aria-labelledby="history-heading" className="scroll-mt-6">
            <h2 id="history-heading" className="text-xl font-semibold text-white">
              Messages while you are away
            </h2>
            <p className="mt-3">
              Your bouncer stays connected to IRC when none of your clients is. It keeps the
              messages of your channels and private conversations, and when a client connects again
              it plays back what that client missed. Clients that support the IRCv3{" "}
              <code className="font-mono text-slate-200">chathistory</code> extension can also load
              older messages as you scroll back.
            </p>
          </section>

          <section id="irc-now" aria-labelledby="irc-now-heading" className="scroll-mt-6">
            <h2 id="irc-now-heading" className="text-xl font-semibold text-white">
              Your account on the irc.now network
            </h2>
            <p className="mt-3">
              Every bouncer is connected to the irc.now IRC network and logged in there with an
              account named after your irc.now username (over SASL). irc.now sets this up for you
              after you create a bouncer; the dashboard updates by itself as it goes through these
              steps:
            </p>
            <dl className="mt-4 space-y-3">
              <div>
                <dt className="font-semibold text-white">Provisioning</dt>
                <dd>The platform is starting your bouncer.</dd>
              </div>
              <div>
                <dt className="font-semibold text-white">Ready</dt>
                <dd>Your bouncer runs; irc.now is preparing your account on the network.</dd>
              </div>
              <div>
                <dt className="font-semibold text-white">Upstream configured</dt>
                <dd>Your bouncer knows how to log in to the irc.now network.</dd>
              </div>
              <div>
                <dt className="font-semibold text-white">Authenticated on irc.now</dt>
                <dd>Your bouncer is logged in to the network with your account.</dd>
              </div>
              <div>
                <dt className="font-semibold text-white">Waiting for irc.now staff</dt>
                <dd>
                  Setup stopped on something a person has to check, such as an account with your
                  name that already existed. Staff see it; you don&apos;t need to do anything.
                </dd>
              </div>
            </dl>
          </section>

          <section id="networks" aria-labelledby="networks-heading" className="scroll-mt-6">
            <h2 id="networks-heading" className="text-xl font-semibold text-white">
              Add other networks
            </h2>
            <p className="mt-3">
              Your bouncer can stay on other networks too. From a client connected to it, send a
              message to <span className="font-mono text-slate-200">BouncerServ</span>, the
              bouncer&apos;s own service, for example:
            </p>
            <pre className="mt-3 rounded-md border border-slate-800 bg-slate-900 p-4 font-mono text-sm break-words whitespace-pre-wrap text-slate-200">
              /msg BouncerServ network create -addr irc.libera.chat
            </pre>
            <p className="mt-3">
              Send <span className="font-mono text-slate-200">help</span> to BouncerServ for every
              command it knows.
            </p>
          </section>
        </div>
      </PageMain>
    </>
  );
}
