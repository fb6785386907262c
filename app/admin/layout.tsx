import Link from "next/link";
import type { ReactNode } from "react";
import { currentUser } from "@/lib/auth/session";
import { redirect } from "next/navigation";

/**
 * Organisers only. This layout is a convenience for pages; every data function, action and
 * route below checks the caller again itself (a layout does not guard actions or routes).
 */
export default async function AdminLayout({ children }: { children: ReactNode }) {
  const user = await currentUser();
  if (!user) redirect("/signin?next=%2Fadmin");
  if (user.role !== "ADMIN") {
    return (
      <main className="mx-auto max-w-xl p-8">
        <h1 className="text-xl font-semibold">Organisers only</h1>
        <p className="mt-2 text-slate-700">You are signed in as {user.email}, a participant. The admin pages are for the event&apos;s organisers.</p>
      </main>
    );
  }
  return (
    <div className="mx-auto max-w-7xl p-6">
      <nav className="mb-6 flex items-center gap-4 border-b pb-3 text-sm">
        <span className="font-semibold">MLS-GOAT admin</span>
        <Link href="/admin" className="hover:underline">Dashboard</Link>
        <Link href="/admin/tasks" className="hover:underline">Tasks</Link>
        <Link href="/admin/users" className="hover:underline">Users and teams</Link>
        <Link href="/admin/webhooks" className="hover:underline">Webhooks</Link>
        <Link href="/admin/announcements" className="hover:underline">Announcements</Link>
        <span className="ml-auto text-slate-500">{user.email}</span>
      </nav>
      {children}
    </div>
  );
}
