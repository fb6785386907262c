/** The reader's colour scheme choice: "system" follows the operating system's setting. */
export const THEMES = ["system", "light", "dark"] as const;
export type Theme = (typeof THEMES)[number];

/** Read by the root layout (server) to set <html class> before the first paint; written by the toggle. */
export const THEME_COOKIE = "goat-theme";

export function parseTheme(value: string | null | undefined): Theme {
  return (THEMES as readonly string[]).includes(value ?? "") ? (value as Theme) : "system";
}

/** The <html> class for a choice: none for "system", which the stylesheet's media query follows. */
export function themeClass(theme: Theme): string {
  return theme === "system" ? "" : theme;
}
