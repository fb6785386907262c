"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

/** The admin section's pages; a new admin page is one more line here. */
export const ADMIN_NAV: { href: string; label: string }[] = [
  { href: "/admin", label: "Dashboard" },
  { href: "/admin/tasks", label: "Tasks" },
  { href: "/admin/users", label: "Users and teams" },
  { href: "/admin/announcements", label: "Announcements" },
  { href: "/admin/webhooks", label: "Webhooks" },
];

/** Tabs styled like the site header's links, with the current page marked for screen readers. */
export function AdminNav() {
  const pathname = usePathname();
  const current = (href: string) => (href === "/admin" ? pathname === href : pathname === href || pathname.startsWith(`${href}/`));
  return (
    <nav aria-label="Admin" className="mb-6 flex flex-wrap items-center gap-1 border-b border-slate-200 pb-3 text-sm">
      {ADMIN_NAV.map((item) => (
        <Link
          key={item.href}
          href={item.href}
          aria-current={current(item.href) ? "page" : undefined}
          className={`rounded-md px-3 py-1 ${current(item.href) ? "bg-indigo-600 font-medium text-white" : "text-slate-700 hover:bg-slate-100 hover:text-slate-900"}`}
        >
          {item.label}
        </Link>
      ))}
    </nav>
  );
}
