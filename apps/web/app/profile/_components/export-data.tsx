const focusRing =
  "focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400";

/** "Export my data": a plain download link (GET /api/account/export answers an attachment). */
export function ExportData() {
  return (
    <section aria-labelledby="export-heading" className="mt-12 max-w-3xl">
      <h2 id="export-heading" className="text-lg font-semibold text-white">
        Your data
      </h2>
      <p className="mt-2 text-sm text-slate-400">
        Download everything irc.now&apos;s portal holds about you as a JSON file: your account,
        bouncers and their setup history, app passwords (labels and dates only, never the
        passwords), imports and the audit entries about you.
      </p>
      <a
        href="/api/account/export"
        download
        className={`mt-3 inline-block rounded-md border border-slate-600 px-4 py-2 font-semibold text-slate-100 hover:bg-slate-800 ${focusRing}`}
      >
        Export my data
      </a>
    </section>
  );
}
