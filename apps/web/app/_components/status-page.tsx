/**
 * The body of a short page that explains where the visitor is (404, 403, signed out): a small
 * code or label, the heading, the explanation and what to do next.
 */
export function StatusPage({
  label,
  title,
  children,
  actions,
}: {
  label?: string;
  title: string;
  children: React.ReactNode;
  actions: React.ReactNode;
}) {
  return (
    <div className="mx-auto max-w-xl px-4 py-16 text-center sm:px-6 sm:py-24">
      {label && <p className="font-mono text-sm text-amber-300">{label}</p>}
      <h1 className="mt-2 text-3xl font-bold text-balance text-white">{title}</h1>
      <div className="mt-4 space-y-2 text-slate-300">{children}</div>
      <div className="mt-8 flex flex-wrap items-center justify-center gap-3">{actions}</div>
    </div>
  );
}

export const primaryAction =
  "inline-block rounded-md bg-emerald-500 px-4 py-2 font-semibold text-slate-950 hover:bg-emerald-400 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-300";
export const secondaryAction =
  "inline-block rounded-md bg-slate-800 px-4 py-2 text-slate-100 hover:bg-slate-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400";
