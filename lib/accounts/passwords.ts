import "server-only";
import { hash, parseOptions, verify } from "@node-rs/argon2";
import bcrypt from "bcryptjs";

/**
 * Password hashes: argon2id with OWASP's minimum settings (19 MiB, 2 passes, 1 lane; the
 * library's defaults, which it documents as argon2id). bcrypt, used before, reads only the first 72
 * bytes of a password; its hashes are still verified, and replaced by argon2id at the next
 * successful sign-in. https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html
 */
const ARGON2ID = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
const ARGON2ID_PREFIX = "$argon2id$";
const BCRYPT_PREFIX = /^\$2[aby]\$/;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2ID);
}

export interface PasswordCheck {
  ok: boolean;
  /** the stored hash is bcrypt or weaker argon2 settings: store hashPassword(password) now */
  needsRehash: boolean;
}

/** A hash of nothing anyone knows, verified when the email is unknown so that answer takes as long as a wrong password. */
let dummyHash: Promise<string> | undefined;

/** Checks a password against a stored hash; with no hash (unknown account) it spends the same time and says no. */
export async function checkPassword(storedHash: string | null, password: string): Promise<PasswordCheck> {
  if (storedHash === null) {
    dummyHash ??= hashPassword(`no account ${Math.random()}`);
    await verify(await dummyHash, password);
    return { ok: false, needsRehash: false };
  }
  if (storedHash.startsWith(ARGON2ID_PREFIX)) {
    const ok = await verify(storedHash, password).catch(() => false);
    return { ok, needsRehash: ok && !hasCurrentSettings(storedHash) };
  }
  if (BCRYPT_PREFIX.test(storedHash)) {
    const ok = await bcrypt.compare(password, storedHash);
    return { ok, needsRehash: ok };
  }
  return { ok: false, needsRehash: false };
}

function hasCurrentSettings(storedHash: string): boolean {
  const options = parseOptions(storedHash);
  return options.memoryCost >= ARGON2ID.memoryCost && options.timeCost >= ARGON2ID.timeCost && options.parallelism >= ARGON2ID.parallelism;
}
