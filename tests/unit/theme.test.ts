import { describe, expect, it } from "vitest";
import { parseTheme, themeClass } from "@/components/site/theme";

describe("colour scheme choice", () => {
  it("reads light and dark from the cookie and falls back to following the system for anything else", () => {
    expect(parseTheme("dark")).toBe("dark");
    expect(parseTheme("light")).toBe("light");
    expect(parseTheme("system")).toBe("system");
    expect(parseTheme(undefined)).toBe("system");
    expect(parseTheme("dark; injected")).toBe("system");
  });

  it("puts a class on <html> only for an explicit choice, so the stylesheet's media query rules otherwise", () => {
    expect(themeClass("dark")).toBe("dark");
    expect(themeClass("light")).toBe("light");
    expect(themeClass("system")).toBe("");
  });
});
