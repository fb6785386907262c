import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";

// Attack: bcrypt reads only the first 72 bytes of a password, so a 200-character passphrase can be
// matched by guessing its first 72 bytes. Passwords are argon2id now (the whole password counts),
// and an old bcrypt hash is replaced by argon2id at the next successful sign-in.
const { db } = await import("@/lib/db");
const { signUpParticipant } = await import("@/lib/accounts/sign-up");
const { createUser } = await import("@/lib/accounts/users");
const { uniqueName } = await import("../integration/support/fixtures");
const { signInThroughNextAuth } = await import("./support/next-auth");

describe("passwords", () => {
  it("a long password must match in full: its first 72 bytes do not sign in", async () => {
    const email = `${uniqueName("long")}@test.local`;
    const password = "correct horse battery staple ".repeat(7).slice(0, 200);
    expect(await signUpParticipant({ name: "Long", email, password, confirmPassword: password }, "198.51.100.20")).toEqual({ ok: true, email });
    expect(await signInThroughNextAuth(email, password.slice(0, 72))).toBeNull();
    expect(await signInThroughNextAuth(email, `${password.slice(0, 199)}!`)).toBeNull();
    expect(await signInThroughNextAuth(email, password)).not.toBeNull();
  });

  it("new accounts are stored as argon2id hashes", async () => {
    const user = await createUser({ email: `${uniqueName("argon")}@test.local`, name: "A", password: "argon-password-1" });
    const { passwordHash } = await db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it("an old bcrypt hash still signs in once, and is replaced by argon2id", async () => {
    const email = `${uniqueName("legacy")}@test.local`;
    const user = await db.user.create({ data: { email, name: "Legacy", passwordHash: await bcrypt.hash("legacy-password-1", 10) } });
    expect(await signInThroughNextAuth(email, "wrong-password-1")).toBeNull();
    expect((await db.user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash).toMatch(/^\$2[aby]\$/);

    expect(await signInThroughNextAuth(email, "legacy-password-1")).not.toBeNull();
    const { passwordHash } = await db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(passwordHash).toMatch(/^\$argon2id\$/);
    expect(await signInThroughNextAuth(email, "legacy-password-1")).not.toBeNull();
  });
});
