import "server-only";
import { verifyPassword } from "../accounts/users";
import { assertUnderLimit, clearLimit, limitKey, recordLimitEvent } from "../http/rate-limits";

/**
 * Email-and-password sign-in with its brute-force limits: failed attempts are counted per account
 * (whether or not it exists, so a refusal does not reveal one) and per address; past either limit
 * the sign-in route answers 429 before a password is checked, and even a right password is refused
 * until the window ends. A success clears the account's count.
 */
export async function assertSignInAllowed(email: string, ip: string): Promise<void> {
  await assertUnderLimit("signInFailuresPerIp", ip);
  await assertUnderLimit("signInFailuresPerAccount", accountKey(email));
}

export async function signInWithPassword(email: string, password: string, ip: string) {
  try {
    await assertSignInAllowed(email, ip);
  } catch {
    return null;
  }
  const user = await verifyPassword(email, password);
  if (!user) {
    await Promise.all([recordLimitEvent("signInFailuresPerAccount", accountKey(email)), recordLimitEvent("signInFailuresPerIp", ip)]);
    return null;
  }
  await clearLimit("signInFailuresPerAccount", accountKey(email));
  return user;
}

function accountKey(email: string): string {
  return limitKey(email.trim().toLowerCase());
}
