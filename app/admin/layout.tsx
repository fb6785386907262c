import type { ReactNode } from "react";
import { redirect } from "next/navigation";
import { AdminNav } from "@/components/admin/admin-nav";
import { currentUser } from "@/lib/auth/session";

/**
 * Organisers only. This layout is a convenience for pages; every data function, action and
 * route below checks the caller again itself (a layout does not guard actions or routes).
 * The site header and the root layout's <main> frame these pages like every other page.
 */
export default async function AdminLayout({ children }: { children: ReactNode }) {
  const user = await currentUser();
  if (!user) redirect("/signin?next=%2Fadmin");
  if (user.role !== "ADMIN") {
    return (
      <div className="mx-auto max-w-xl py-8">
        <h1 className="text-xl font-semibold">Organisers only</h1>
        <p className="mt-2 text-slate-700">You are signed in as {user.email}, a participant. The admin pages are for the event&apos;s organisers.</p>
      </div>
    );
  }
  return (
    <div>
      <AdminNav />
      {children}
    </div>
  );
}
