"use client";

import { signOut } from "next-auth/react";
import { useRouter } from "next/navigation";

/**
 * next-auth's redirect after sign-out goes to NEXTAUTH_URL's host, which is not the one in use
 * when the site is reached by another name (an IP, a tunnel): sign out without its redirect and
 * go home on the host the reader is on.
 */
export function SignOutButton() {
  const router = useRouter();
  return (
    <button
      type="button"
      onClick={async () => {
        await signOut({ redirect: false });
        router.push("/");
        router.refresh();
      }}
      className="rounded-md px-2 py-1 text-slate-700 hover:bg-slate-100 hover:text-slate-900"
    >
      Sign out
    </button>
  );
}
