import Link from "next/link";
import type { Session } from "next-auth";
import { SignInButton } from "./sign-in-button";
import { SignOutButton } from "./sign-out-button";

/** Top bar on every page: brand, navigation for the signed-in user, sign-in/out. */
export function SiteHeader({ session }: { session: Session | null }) {
  return (
    <header className="border-b border-slate-900">
      <div className="mx-auto flex w-full max-w-6xl items-center justify-between gap-4 px-6 py-4">
        <div className="flex items-center gap-6">
          <Link href="/" className="font-mono text-lg font-semibold tracking-tight text-white">
            irc<span className="text-emerald-400">.</span>now
          </Link>
          {session && (
            <nav aria-label="Main" className="flex items-center gap-1 text-sm">
              <Link
                href="/dashboard"
                className="rounded-md px-3 py-2 text-slate-300 hover:bg-slate-800 hover:text-white"
              >
                Dashboard
              </Link>
              {session.user.isAdmin && (
                <Link
                  href="/admin"
                  className="rounded-md px-3 py-2 text-slate-300 hover:bg-slate-800 hover:text-white"
                >
                  Admin
                </Link>
              )}
            </nav>
          )}
        </div>
        {session ? (
          <div className="flex items-center gap-3 text-sm">
            <span className="hidden text-slate-400 sm:inline" data-testid="signed-in-as">
              {session.user.username}
            </span>
            <SignOutButton />
          </div>
        ) : (
          <SignInButton className="rounded-md px-3 py-2 text-sm font-medium text-slate-300 hover:bg-slate-800 hover:text-white">
            Sign in
          </SignInButton>
        )}
      </div>
    </header>
  );
}
