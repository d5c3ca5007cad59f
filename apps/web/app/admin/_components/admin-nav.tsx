"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { focusRing } from "./ui";

const links = [
  {
    href: "/admin",
    label: "Bouncers",
    active: (path: string) => path === "/admin" || path.startsWith("/admin/bouncers"),
  },
  {
    href: "/admin/users",
    label: "Users",
    active: (path: string) => path.startsWith("/admin/users"),
  },
  {
    href: "/admin/outbox",
    label: "Keycloak sync",
    active: (path: string) => path.startsWith("/admin/outbox"),
  },
  {
    href: "/admin/audit",
    label: "Audit log",
    active: (path: string) => path.startsWith("/admin/audit"),
  },
];

/** The admin sub-navigation; marks the current section with aria-current. */
export function AdminNav() {
  const pathname = usePathname();
  return (
    <nav aria-label="Admin">
      <ul className="flex flex-wrap items-center gap-1 text-sm">
        {links.map((link) => {
          const current = link.active(pathname);
          return (
            <li key={link.href}>
              <Link
                href={link.href}
                aria-current={current ? "page" : undefined}
                className={`block rounded-md px-3 py-1.5 ${focusRing} ${
                  current
                    ? "bg-emerald-500/15 font-medium text-emerald-200"
                    : "text-slate-300 hover:bg-slate-800 hover:text-white"
                }`}
              >
                {link.label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
