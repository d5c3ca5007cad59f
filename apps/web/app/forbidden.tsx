import Link from "next/link";

export default function Forbidden() {
  return (
    <main className="mx-auto max-w-xl px-6 py-24 text-center">
      <p className="font-mono text-sm text-amber-400">403</p>
      <h1 className="mt-2 text-3xl font-bold text-white">You do not have access to this page</h1>
      <p className="mt-4 text-slate-400">
        The admin console is for irc.now staff with the admin role.
      </p>
      <Link
        href="/dashboard"
        className="mt-8 inline-block rounded-md bg-slate-800 px-4 py-2 text-slate-100 hover:bg-slate-700"
      >
        Back to your dashboard
      </Link>
    </main>
  );
}
