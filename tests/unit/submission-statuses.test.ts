import { describe, expect, it } from "vitest";
import { SUBMISSION_STATUSES } from "@goat/contracts/submission";
import { SubmissionStatus } from "@goat/contracts/db";

// contracts/ does not import Prisma, so it keeps its own list of the states (the event schema and
// the API's zod schemas use it); this keeps it equal to the database's enum.
describe("SUBMISSION_STATUSES", () => {
  it("lists exactly the states of the Prisma enum SubmissionStatus, in the schema's order", () => {
    expect([...SUBMISSION_STATUSES]).toEqual(Object.values(SubmissionStatus));
  });
});
