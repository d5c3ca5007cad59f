/**
 * The page's main landmark: the target of the "Skip to main content" link (id="main"), and
 * focusable from script (tabIndex -1) so that link moves keyboard focus into it.
 */
export function PageMain({
  className,
  children,
}: {
  className?: string;
  children: React.ReactNode;
}) {
  return (
    <main id="main" tabIndex={-1} className={`focus:outline-none ${className ?? ""}`}>
      {children}
    </main>
  );
}
