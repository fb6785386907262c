import { beforeAll } from "vitest";
import { dropJobsLeftByEarlierFiles } from "./shared-queue";

// Every integration and security file starts with no job of an earlier file in the shared queue
// (vitest.config.ts's setupFiles): a worker a file starts evaluates that file's submissions only, so
// what the file asserts of them (attempts, the worker that scored them) does not depend on which
// file ran before it. Runs before the file's own hooks.
beforeAll(dropJobsLeftByEarlierFiles);
