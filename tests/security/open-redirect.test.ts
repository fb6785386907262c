import { describe, expect, it, vi } from "vitest";
import type { SessionUser } from "@/lib/auth/session";

// Attack: a link to /signin?next=/%09/evil.example. The page reads `next` decoded ("/\t/evil.example"),
// and a browser drops the tab: "//evil.example" is another site. The sign-in and sign-up pages must
// send a signed-in visitor (and the forms, after signing in) only to a path on this site.
const session = vi.hoisted(() => ({ user: null as SessionUser | null }));
vi.mock("@/lib/auth/session", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@/lib/auth/session")>()),
  currentUser: async () => session.user,
  // The page also reads the session cookie to say why a session ended; these visitors have none.
  endedSessionReason: async () => null,
}));

const SignInPage = (await import("@/app/signin/page")).default;
const SignUpPage = (await import("@/app/signup/page")).default;

const hostile = ["/\t/evil.example", "/%09/evil.example".replace("%09", "\t"), "//evil.example", "/\\evil.example", "/\n/evil.example", "/.//evil.example", "https://evil.example/", "javascript:alert(1)"];

/** Where the page redirects a signed-in visitor: Next's redirect() throws an error whose digest holds the URL. */
async function redirectTarget(page: typeof SignInPage, next: string): Promise<string> {
  const error = await page({ searchParams: Promise.resolve({ next }) }).then(
    () => null,
    (thrown: { digest?: string }) => thrown,
  );
  const digest = error?.digest ?? "";
  expect(digest).toMatch(/^NEXT_REDIRECT;/);
  return digest.split(";")[2];
}

/** The return path a signed-out visitor's form gets (the `returnTo` prop of the form element). */
async function formReturnTo(page: typeof SignInPage, next: string): Promise<string> {
  const tree = await page({ searchParams: Promise.resolve({ next }) });
  const found: string[] = [];
  const walk = (node: unknown) => {
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach(walk);
    const props = (node as { props?: { returnTo?: string; children?: unknown } }).props;
    if (props?.returnTo !== undefined) found.push(props.returnTo);
    walk(props?.children);
  };
  walk(tree);
  expect(found).toHaveLength(1);
  return found[0];
}

describe("the return path after signing in", () => {
  it.each(hostile)("a signed-in visitor with next=%j is sent to /tasks, never off the site", async (next) => {
    session.user = { id: 1, email: "a@test.local", name: "A", role: "PARTICIPANT", team: null };
    expect(await redirectTarget(SignInPage, next)).toBe("/tasks");
    expect(await redirectTarget(SignUpPage, next)).toBe("/tasks");
  });

  it.each(hostile)("the sign-in and sign-up forms get /tasks for next=%j", async (next) => {
    session.user = null;
    expect(await formReturnTo(SignInPage, next)).toBe("/tasks");
    expect(await formReturnTo(SignUpPage, next)).toBe("/tasks");
  });

  it("a path on this site is kept, with its query", async () => {
    session.user = { id: 1, email: "a@test.local", name: "A", role: "PARTICIPANT", team: null };
    expect(await redirectTarget(SignInPage, "/tasks/task2/submissions?page=2")).toBe("/tasks/task2/submissions?page=2");
    session.user = null;
    expect(await formReturnTo(SignInPage, "/team")).toBe("/team");
  });
});
