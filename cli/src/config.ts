import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CliError } from "./errors.ts";

/**
 * Where `goat login` keeps the server's URL and the API token: $XDG_CONFIG_HOME/goat/config.json
 * (else ~/.config/goat/config.json), readable by its owner only (0600, in a 0700 directory),
 * because the token uploads models as the user. GOAT_URL and GOAT_TOKEN override the file, so a
 * CI job or a notebook needs no login at all.
 */
export interface GoatConfig {
  url: string;
  token: string;
}

export function configPath(environment: NodeJS.ProcessEnv = process.env): string {
  const base = environment.XDG_CONFIG_HOME || path.join(os.homedir(), ".config");
  return path.join(base, "goat", "config.json");
}

async function readConfigFile(file: string): Promise<Partial<GoatConfig>> {
  try {
    const parsed = JSON.parse(await fs.readFile(file, "utf8")) as Partial<GoatConfig>;
    return { url: typeof parsed.url === "string" ? parsed.url : undefined, token: typeof parsed.token === "string" ? parsed.token : undefined };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new CliError(`Cannot read ${file}: ${(error as Error).message}.`, "Run `goat login` again to rewrite it.");
  }
}

export function normaliseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`"${url}" is not a URL.`, "Give the server's address, e.g. http://localhost:8000.");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new CliError(`"${url}" is not an http(s) URL.`, "Give the server's address, e.g. https://goat.example.org.");
  }
  return parsed.origin + parsed.pathname.replace(/\/+$/, "");
}

/** The server and token to use: the environment first, then the file written by `goat login`. */
export async function resolveConfig(environment: NodeJS.ProcessEnv = process.env): Promise<GoatConfig> {
  const stored = await readConfigFile(configPath(environment));
  const url = environment.GOAT_URL || stored.url;
  const token = environment.GOAT_TOKEN || stored.token;
  if (!url || !token) {
    throw new CliError("No server or token configured.", "Run `goat login --url URL`, or set GOAT_URL and GOAT_TOKEN.");
  }
  return { url: normaliseUrl(url), token };
}

export async function saveConfig(config: GoatConfig, environment: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = configPath(environment);
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // Write then rename, so a crash never leaves half a file; mode is set at creation, never widened.
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temporary, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  await fs.chmod(temporary, 0o600);
  await fs.rename(temporary, file);
  return file;
}
