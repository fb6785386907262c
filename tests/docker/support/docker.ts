import { spawnSync } from "node:child_process";
import { closeSync, openSync } from "node:fs";

// Docker and Compose (Debian's docker-compose 1.29) as a user runs them, against the private engine
// that scripts/docker/engine.sh started (DOCKER_HOST in the environment).

export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; throws with its output unless it exits 0 (or `allowFailure`). */
export function run(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; allowFailure?: boolean; logFile?: string } = {}): CommandResult {
  const log = opts.logFile ? openSync(opts.logFile, "a") : null;
  try {
    const result = spawnSync(command, args, {
      env: opts.env ?? process.env,
      input: opts.input,
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      stdio: log === null ? "pipe" : ["pipe", log, log],
    });
    const outcome = { status: result.status ?? -1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
    if (outcome.status !== 0 && !opts.allowFailure) {
      const where = opts.logFile ? ` (log: ${opts.logFile})` : `\n${outcome.stdout.slice(-2000)}\n${outcome.stderr.slice(-4000)}`;
      throw new Error(`${command} ${args.join(" ")} exited ${outcome.status}${where}`);
    }
    return outcome;
  } finally {
    if (log !== null) closeSync(log);
  }
}

/** Debian's client matches Debian's engine (a newer `docker` elsewhere on PATH would want buildx). */
export const DOCKER = "/usr/bin/docker";

export function docker(args: string[], opts: { allowFailure?: boolean } = {}): CommandResult {
  return run(DOCKER, args, opts);
}

/** One Compose project: its name, its files, its env file and the variables it reads. */
export class ComposeProject {
  constructor(
    readonly name: string,
    readonly files: string[],
    readonly envFile: string,
    readonly env: Record<string, string>,
  ) {}

  run(args: string[], opts: { input?: string; allowFailure?: boolean; logFile?: string; env?: Record<string, string> } = {}): CommandResult {
    const fileArgs = this.files.flatMap((file) => ["-f", file]);
    return run("docker-compose", ["--project-name", this.name, "--env-file", this.envFile, ...fileArgs, ...args], {
      ...opts,
      env: { ...process.env, ...this.env, ...opts.env },
    });
  }

  /**
   * The container id of a service (its first container, running or not); null when it has none.
   * Read from Docker's labels in one `docker ps` (docker-compose starts Python: seconds per call here).
   */
  container(service: string): string | null {
    return this.containers().get(service) ?? null;
  }

  containers(): Map<string, string> {
    const { stdout } = docker(["ps", "-a", "--filter", `label=com.docker.compose.project=${this.name}`, "--format", '{{.Label "com.docker.compose.service"}} {{.ID}}']);
    const byService = new Map<string, string>();
    for (const line of stdout.trim().split("\n").filter(Boolean)) {
      const [service, id] = line.split(" ");
      if (!byService.has(service)) byService.set(service, id);
    }
    return byService;
  }

  /**
   * Each service's health in one `docker inspect`: `healthy`, `unhealthy`, `starting` with a
   * healthcheck, else the state (`running`, `exited`); "missing" for a service without a container.
   */
  health(services: string[]): Map<string, string> {
    const ids = this.containers();
    const present = services.filter((service) => ids.has(service));
    const states = present.length === 0 ? [] : docker(["inspect", "--format", HEALTH_FORMAT, ...present.map((s) => ids.get(s)!)]).stdout.trim().split("\n");
    return new Map(services.map((service) => [service, ids.has(service) ? states[present.indexOf(service)] : "missing"]));
  }

  /** `docker-compose exec -T postgres psql` with the stack's credentials: one value per line. */
  sql(query: string): string[] {
    const { stdout } = this.run(["exec", "-T", "postgres", "psql", "-U", this.env.POSTGRES_USER ?? "goat", "-d", this.env.POSTGRES_DB ?? "goat", "-tA", "-c", query]);
    return stdout.trim().split("\n").filter(Boolean);
  }
}

/** Health where the container has a healthcheck, else its state. */
const HEALTH_FORMAT = "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}";

export function inspect<T>(id: string, template: string): T {
  return JSON.parse(docker(["inspect", "--format", `{{json ${template}}}`, id]).stdout) as T;
}

/** Polls until `check` returns a value (not null/false), or fails after `timeoutMs` with the last state seen. */
export async function until<T>(what: string, check: () => T | null | false | Promise<T | null | false>, timeoutMs = 180_000, intervalMs = 1_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await check();
      if (value !== null && value !== false) return value;
      lastError = null;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export { freePort } from "../../support/free-port";
