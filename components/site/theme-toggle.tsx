"use client";

import { useEffect, useSyncExternalStore } from "react";
import { parseTheme, THEME_COOKIE, THEMES, type Theme } from "./theme";

/**
 * Cycles the colour scheme: system → light → dark. The choice is kept in localStorage (the
 * browser's record, shared by tabs) and in a cookie (so the server renders the right <html class>
 * on the next page load: no flash, and no inline script for a strict CSP to block).
 */
const STORAGE_KEY = "goat-theme";
const CHANGED = "goat:theme-changed";
const LABEL: Record<Theme, string> = { system: "Auto", light: "Light", dark: "Dark" };
const ICON: Record<Theme, string> = { system: "◐", light: "☀", dark: "☾" };

function stored(): Theme | null {
  try {
    const value = window.localStorage.getItem(STORAGE_KEY);
    return value ? parseTheme(value) : null;
  } catch {
    return null; // storage disabled: the cookie still carries the choice
  }
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("storage", onChange);
  window.addEventListener(CHANGED, onChange);
  return () => {
    window.removeEventListener("storage", onChange);
    window.removeEventListener(CHANGED, onChange);
  };
}

function apply(theme: Theme) {
  const root = document.documentElement;
  root.classList.remove("light", "dark");
  if (theme !== "system") root.classList.add(theme);
  document.cookie = `${THEME_COOKIE}=${theme}; path=/; max-age=31536000; samesite=lax`;
}

export function ThemeToggle({ initial }: { initial: Theme }) {
  const theme = useSyncExternalStore(subscribe, () => stored() ?? initial, () => initial);
  // Keeps the page and the cookie in step with the stored choice (another tab, or a cleared cookie).
  useEffect(() => apply(theme), [theme]);

  function next() {
    const chosen = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
    try {
      window.localStorage.setItem(STORAGE_KEY, chosen);
    } catch {
      // storage disabled: the cookie alone keeps the choice
    }
    apply(chosen);
    window.dispatchEvent(new Event(CHANGED));
  }

  const following = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
  return (
    <button
      type="button"
      onClick={next}
      data-testid="theme-toggle"
      data-theme={theme}
      aria-label={`Colour scheme: ${LABEL[theme]}. Switch to ${LABEL[following]}.`}
      title={`Colour scheme: ${LABEL[theme]} (click for ${LABEL[following]})`}
      className="rounded-md px-2 py-1 text-slate-700 hover:bg-slate-100 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600"
    >
      <span aria-hidden="true">{ICON[theme]}</span>
      <span className="ml-1 hidden sm:inline">{LABEL[theme]}</span>
    </button>
  );
}
