"use client";

import { AccountLinks, MemberLinks } from "./account-links";
import { useSignedInUser } from "./signed-in-user";

/**
 * The header's account parts on a kept page rendered for signed-in readers (SiteHeader with user
 * "deferred"): the same HTML serves them all, so who is signed in comes from the browser once the
 * page has asked (signed-in-user.ts). Until then the account part holds its place, empty.
 */
export function DeferredAccount({ part }: { part: "links" | "account" }) {
  const known = useSignedInUser();
  if (!known) return part === "account" ? <span className="inline-block h-7 w-40" aria-hidden="true" data-testid="account-pending" /> : null;
  return part === "links" ? <MemberLinks user={known.user} /> : <AccountLinks user={known.user} />;
}
