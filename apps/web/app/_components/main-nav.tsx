"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

const linkClass =
  "rounded-md px-2.5 py-2 whitespace-nowrap hover:bg-slate-800 hover:text-white focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-emerald-400 sm:px-3";

/** Dashboard / Import / App passwords / Billing / Profile / Admin for a signed-in user; marks the current section with aria-current. */
export function MainNav({ isAdmin }: { isAdmin: boolean }) {
  const pathname = usePathname();
  const links = [
    { href: "/dashboard", label: "Dashboard", current: pathname.startsWith("/dashboard") },
    { href: "/import", label: "Import", current: pathname.startsWith("/import") },
    {
      href: "/app-passwords",
      label: "App passwords",
      current: pathname.startsWith("/app-passwords"),
    },
    { href: "/billing", label: "Billing", current: pathname.startsWith("/billing") },
    { href: "/profile", label: "Profile", current: pathname.startsWith("/profile") },
    ...(isAdmin
      ? [{ href: "/admin", label: "Admin", current: pathname.startsWith("/admin") }]
      : []),
  ];
  return (
    <nav aria-label="Main">
      {/* Wraps onto a second line rather than pushing a narrow screen sideways (WCAG 1.4.10). */}
      <ul className="flex flex-wrap items-center gap-1 text-sm">
        {links.map((link) => (
          <li key={link.href}>
            <Link
              href={link.href}
              aria-current={link.current ? "page" : undefined}
              className={`${linkClass} ${link.current ? "font-medium text-white" : "text-slate-300"}`}
            >
              {link.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
