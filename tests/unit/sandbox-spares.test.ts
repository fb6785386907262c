import { describe, expect, it } from "vitest";
import { loadWorkerEnv, sandboxSpares } from "../../worker/src/env";

// How many sandbox processes a worker keeps warm: SANDBOX_SPARES, or by default (auto) one per core
// its container lets it use, at most two (worker/src/env.ts; measured in `npm run bench`, (b)).
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

  it.each<[cores: number, spares: number]>([
    [1, 1],
    [2, 2],
    [3, 2],
    [64, 2],
  ])("auto on %i usable core(s) keeps %i warm", (cores, spares) => {
    expect(sandboxSpares("auto", cores)).toBe(spares);
  });

  it("a set number wins over the cores: 1 on a big host, 3 on one core", () => {
    expect(sandboxSpares(1, 64)).toBe(1);
    expect(sandboxSpares(3, 1)).toBe(3);
  });
});
