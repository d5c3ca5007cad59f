import Link from "next/link";
import type { Session } from "next-auth";
import { MainNav } from "./main-nav";
import { SignInButton } from "./sign-in-button";
import { SignOutButton } from "./sign-out-button";

/**
 * Top bar on every page: brand, navigation for the signed-in user, sign-in/out. On a phone the
 * navigation takes a second row, so "Sign out" never wraps or pushes the page sideways.
 */
export function SiteHeader({ session }: { session: Session | null }) {
  return (
    <header className="border-b border-slate-900">
      <div className="mx-auto flex w-full max-w-6xl flex-wrap items-center justify-between gap-x-6 gap-y-1 px-4 py-3 sm:flex-nowrap sm:px-6 sm:py-4">
        <Link
          href="/"
          className="rounded font-mono text-lg font-semibold tracking-tight whitespace-nowrap text-white focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400"
        >
          irc<span className="text-emerald-400">.</span>now
        </Link>
        {session && (
          <div className="order-last -mx-2.5 w-full sm:order-none sm:mx-0 sm:mr-auto sm:w-auto">
            <MainNav isAdmin={session.user.isAdmin} />
          </div>
        )}
        {session ? (
          <div className="flex items-center gap-3 text-sm">
            <span
              className="hidden max-w-48 truncate text-slate-400 sm:inline"
              data-testid="signed-in-as"
            >
              {session.user.username}
            </span>
            <SignOutButton />
          </div>
        ) : (
          <SignInButton className="rounded-md px-3 py-2 text-sm font-medium whitespace-nowrap text-slate-300 hover:bg-slate-800 hover:text-white focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400">
            Sign in
          </SignInButton>
        )}
      </div>
    </header>
  );
}
