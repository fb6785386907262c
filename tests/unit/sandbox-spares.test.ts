import { describe, expect, it } from "vitest";
import { loadWorkerEnv, sandboxSpares } from "../../worker/src/env";

// How many sandbox processes a worker keeps warm: SANDBOX_SPARES, or by default (auto) one per core
// its container lets it use beside an evaluation's threads, 1-2 (worker/src/env.ts; `npm run bench`, (b)).
const load = (vars: Record<string, string>) => loadWorkerEnv(vars as unknown as NodeJS.ProcessEnv);

describe("SANDBOX_SPARES", () => {
  it("is auto when unset, and a number of 1-4 when set", () => {
    expect(load({}).SANDBOX_SPARES).toBe("auto");
    expect(load({ SANDBOX_SPARES: "auto" }).SANDBOX_SPARES).toBe("auto");
    expect(load({ SANDBOX_SPARES: "3" }).SANDBOX_SPARES).toBe(3);
  });

  it.each(["0", "5", "1.5", "two", ""])("refuses %j", (value) => {
    expect(() => load({ SANDBOX_SPARES: value })).toThrow(/SANDBOX_SPARES/);
  });

  it.each<[cores: number, intraOpThreads: number, spares: number]>([
    [1, 1, 1],
    [2, 1, 2],
    [3, 1, 2],
    [64, 1, 2],
    [2, 2, 1],
    [3, 2, 1],
    [4, 2, 2],
    [1, 4, 1],
  ])("auto on %i usable core(s) with %i intra-op thread(s) keeps %i warm", (cores, threads, spares) => {
    expect(sandboxSpares("auto", cores, threads)).toBe(spares);
  });

  it("a set number wins over the cores: 1 on a big host, 3 on one core", () => {
    expect(sandboxSpares(1, 64, 1)).toBe(1);
    expect(sandboxSpares(3, 1, 1)).toBe(3);
  });
});
