import { buildWorker } from "../../support/built-worker";

/** vitest globalSetup of the chaos project: the worker its files start, built once per run (tests/support/built-worker.ts). */
export default function setup() {
  buildWorker();
}
