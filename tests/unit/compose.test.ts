import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadWorkerEnv } from "../../worker/src/env";

// docker-compose.yml (the seed's one-server deployment) and docker-compose.workers.yml (extra GPU
// hosts), read as YAML and, where Debian's docker-compose (v1) is installed, as Compose resolves them.
// Nothing here starts a container: `npm run test:docker` (tests/docker/stack.ts) builds and runs them.

const ROOT = path.resolve(__dirname, "../..");
type Service = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function load(file: string): { services: Record<string, Service>; networks: Record<string, any> } { // eslint-disable-line @typescript-eslint/no-explicit-any
  // merge: true resolves the `<<: *worker` merge keys as Compose does.
  return parse(readFileSync(path.join(ROOT, file), "utf8"), { merge: true });
}

const compose = load("docker-compose.yml");
const services = compose.services;
const workerNames = (s: Record<string, Service>, all = false) =>
  Object.keys(s).filter((name) => /^worker-\d+$/.test(name) && (all || !s[name].profiles));
/** ${VAR:-default} -> default, as Compose reads it with VAR unset. */
const withDefault = (value: unknown) => String(value).replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, "$1");

describe("docker-compose.yml", () => {
  it("runs seven GPU workers by default, numbered 1 to 7", () => {
    expect(workerNames(services)).toEqual(["worker-1", "worker-2", "worker-3", "worker-4", "worker-5", "worker-6", "worker-7"]);
  });

  it("gives each worker 1 CPU, a memory limit, an NVIDIA GPU reservation, and its own id and GPU memory limit", () => {
    const ids = new Set<string>();
    for (const name of workerNames(services, true)) {
      const w = services[name];
      expect(withDefault(w.deploy.resources.limits.cpus), name).toBe("1");
      expect(withDefault(w.deploy.resources.limits.memory), name).toMatch(/^\d+[gm]$/);
      expect(w.deploy.resources.reservations.devices, name).toEqual([{ driver: "nvidia", device_ids: ["${WORKER_GPU_DEVICE:-0}"], capabilities: ["gpu"] }]);
      const id = withDefault(w.environment.WORKER_ID);
      expect(id, name).toBe(`gpu0-${name}`);
      ids.add(id);
      expect(withDefault(w.environment.GPU_MEM_LIMIT_MB), name).toBe("4096"); // ~4 GB of the A40's 46
      expect(w.environment.EXECUTION_PROVIDER, name).toBe("${EXECUTION_PROVIDER:-cuda}");
      expect(w.restart, name).toBe("unless-stopped");
      expect(w.logging.options, name).toMatchObject({ "max-size": "${LOG_MAX_SIZE:-10m}", "max-file": "${LOG_MAX_FILE:-3}" });
      expect(w.pid, name).toBe("host"); // the GPU memory watch matches nvidia-smi's host PIDs
      expect(withDefault(w.stop_grace_period), name).toBe("120s");
    }
    expect(ids.size).toBe(12);
  });

  it("seven workers of 4 GB fit the A40 (46 GB), and twelve of 3 GB too", () => {
    /** ${VAR:-default} -> the value Compose reads with these variables set. */
    const resolved = (value: unknown, vars: Record<string, string>) =>
      String(value).replace(/\$\{([A-Z0-9_]+):-([^}]*)\}/g, (_, name: string, fallback: string) => vars[name] ?? fallback);
    const gpuMegabytes = (names: string[], vars: Record<string, string>) =>
      names.map((name) => Number(resolved(services[name].environment.GPU_MEM_LIMIT_MB, vars)));
    const byDefault = gpuMegabytes(workerNames(services), {});
    // 7 x 4 GiB = 28 GiB and 12 x 3 GiB = 36 GiB, under the A40's 46 GB: the limits themselves are
    // what can change, so they are what is checked (a sum of fixed values could not fail).
    expect(byDefault).toEqual(Array(7).fill(4096));
    // The small-models settings (docs/deployment.md): every worker, 3 GB each.
    const smallModels = gpuMegabytes(workerNames(services, true), { WORKER_GPU_MEM_LIMIT_MB: "3072" });
    expect(smallModels).toEqual(Array(12).fill(3072));
    expect(workerNames(services, true).filter((n) => services[n].profiles?.includes("small-models"))).toHaveLength(5);
  });

  it("puts every worker on the internal network only, with the datasets and models read-only", () => {
    expect(compose.networks.backend).toEqual({ internal: true });
    for (const name of workerNames(services, true)) {
      expect(services[name].networks, name).toEqual(["backend"]);
      expect(services[name].ports, name).toBeUndefined();
      expect(services[name].volumes, name).toEqual(["models:/srv/goat/models:ro", "datasets:/srv/goat/data:ro"]);
    }
    expect(services.migrate.networks).toEqual(["backend"]);
  });

  it("has a healthcheck on every long-running service; the migration is one-shot", () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === "migrate") {
        expect(service.restart).toBe("no");
        expect(service.healthcheck).toBeUndefined();
        continue;
      }
      expect(service.healthcheck?.test, name).toBeDefined();
    }
    expect(services.web.healthcheck.test.join(" ")).toContain("/api/health");
    expect(services["worker-1"].healthcheck.test.join(" ")).toContain(`127.0.0.1:${services["worker-1"].environment.WORKER_HEALTH_PORT}/health`);
  });

  it("starts the web app (1 CPU) after healthy Postgres and Redis and a finished migration", () => {
    expect(services.web.depends_on).toEqual({
      postgres: { condition: "service_healthy" },
      redis: { condition: "service_healthy" },
      migrate: { condition: "service_completed_successfully" },
    });
    expect(withDefault(services.web.deploy.resources.limits.cpus)).toBe("1");
    expect(services["worker-1"].depends_on).toEqual(services.web.depends_on);
  });

  it("keeps Postgres and Redis data in volumes; Redis never evicts and appends to disk", () => {
    expect(services.postgres.volumes).toEqual(["postgres-data:/var/lib/postgresql/data"]);
    expect(services.redis.volumes).toEqual(["redis-data:/data"]);
    const command = services.redis.command.join(" ");
    expect(command).toContain("--maxmemory-policy noeviction");
    expect(command).toContain("--appendonly yes");
  });

  it("passes the worker's own environment validation as configured", () => {
    const resolved = Object.fromEntries(
      Object.entries(services["worker-3"].environment).map(([k, v]) => [k, withDefault(v).replace(/\$\{[A-Z_]+:\?[^}]*\}/g, "secret")]),
    );
    const env = loadWorkerEnv(resolved as unknown as NodeJS.ProcessEnv);
    expect(env).toMatchObject({ WORKER_ID: "gpu0-worker-3", GPU_MEM_LIMIT_MB: 4096, EXECUTION_PROVIDER: "cuda", WORKER_HEALTH_PORT: 8081, STORAGE_BACKEND: "directory" });
    expect(env.S3_BUCKET).toBeUndefined();
  });
});

describe("docker-compose.workers.yml (extra GPU hosts)", () => {
  const workers = load("docker-compose.workers.yml").services;
  it("has workers only, on S3 storage, each with a GPU reservation and a healthcheck", () => {
    expect(Object.keys(workers).every((n) => /^worker-\d+$/.test(n))).toBe(true);
    expect(workerNames(workers)).toHaveLength(7);
    for (const [name, w] of Object.entries(workers)) {
      expect(w.environment.STORAGE_BACKEND, name).toBe("s3");
      expect(w.deploy.resources.reservations.devices[0].capabilities, name).toEqual(["gpu"]);
      expect(w.healthcheck.test, name).toBeDefined();
      expect(w.depends_on, name).toBeUndefined();
    }
  });
});

/** `ARG NAME=default` lines of a Dockerfile. */
function dockerfileArgs(file: string): Record<string, string> {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  return Object.fromEntries([...text.matchAll(/^ARG\s+([A-Z_]+)=(\S+)/gm)].map((m) => [m[1], m[2]]));
}

describe("build arguments", () => {
  it.each(["docker-compose.yml", "docker-compose.workers.yml"])("%s passes the worker's base images and onnxruntime variant, defaulting to worker/Dockerfile's", (file) => {
    const worker = load(file).services["worker-1"];
    expect(worker.build.args).toEqual({
      NODE_IMAGE: "${NODE_IMAGE:-node:20.20-bookworm-slim}",
      CUDA_IMAGE: "${CUDA_IMAGE:-nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04}",
      ONNXRUNTIME_VARIANT: "${WORKER_ONNXRUNTIME:-cuda12}",
    });
    const defaults = dockerfileArgs("worker/Dockerfile");
    expect(Object.fromEntries(Object.entries(worker.build.args).map(([k, v]) => [k, withDefault(v)]))).toEqual(defaults);
  });

  it("builds web and tools on NODE_IMAGE, defaulting to the Dockerfile's", () => {
    const { NODE_IMAGE } = dockerfileArgs("Dockerfile");
    for (const name of ["web", "migrate"]) expect(withDefault(services[name].build.args.NODE_IMAGE), name).toBe(NODE_IMAGE);
  });
});

describe(".env.example", () => {
  const example = readFileSync(path.join(ROOT, ".env.example"), "utf8");
  const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
  it("documents every variable the compose files read", () => {
    for (const file of ["docker-compose.yml", "docker-compose.workers.yml"]) {
      const code = readFileSync(path.join(ROOT, file), "utf8").split("\n").filter((l) => !l.trim().startsWith("#")).join("\n");
      const used = new Set([...code.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
      expect([...used].filter((v) => !documented.has(v)), file).toEqual([]);
    }
  });
});

// Debian's docker-compose 1.29 (scripts/system-packages.sh installs it) resolves the files the way
// `docker compose` does: interpolation, merge keys, profiles. Skipped where it is not installed.
const hasCompose = spawnSync("docker-compose", ["version"], { stdio: "ignore" }).status === 0;
// Each call starts Python: seconds on a loaded machine.
describe.skipIf(!hasCompose)("docker-compose config", { timeout: 30_000 }, () => {
  const config = (args: string[], env: Record<string, string> = {}) =>
    parse(
      execFileSync("docker-compose", ["--env-file", ".env.example", ...args, "config"], {
        cwd: ROOT,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...env },
      }),
    );

  it("accepts docker-compose.yml with .env.example and resolves seven workers with their own ids", () => {
    const resolved = config([]);
    const names = workerNames(resolved.services); // v1 lists profiled services too, with their profiles
    expect(workerNames(resolved.services, true)).toHaveLength(12);
    expect(names).toHaveLength(7);
    for (const name of names) {
      const w = resolved.services[name];
      expect(w.environment.WORKER_ID).toBe(`gpu0-${name}`);
      expect(w.environment.GPU_MEM_LIMIT_MB).toBe("4096");
      expect(Number(w.deploy.resources.limits.cpus)).toBe(1);
      expect(w.deploy.resources.reservations.devices[0]).toMatchObject({ driver: "nvidia", capabilities: ["gpu"] });
    }
    expect(resolved.networks.backend.internal).toBe(true);
  });

  it("runs twelve workers with the small-models profile", () => {
    expect(workerNames(config(["--profile", "small-models"]).services, true)).toHaveLength(12);
  });

  it("accepts docker-compose.workers.yml", () => {
    // S3_BUCKET is empty in .env.example (directory storage) and required for extra hosts.
    expect(() => config(["-f", "docker-compose.workers.yml"])).toThrow(/S3_BUCKET/);
    const resolved = config(["-f", "docker-compose.workers.yml"], { S3_BUCKET: "goat-models" });
    expect(workerNames(resolved.services)).toHaveLength(7);
    expect(resolved.services["worker-1"].environment.S3_BUCKET).toBe("goat-models");
    expect(resolved.services["worker-1"].environment.WORKER_ID).toBe("gpu0-worker-1");
  });

  it("refuses to start without the secrets", () => {
    const empty = path.join(mkdtempSync(path.join(tmpdir(), "goat-compose-")), ".env");
    writeFileSync(empty, "");
    const result = spawnSync("docker-compose", ["--env-file", empty, "config"], { cwd: ROOT, encoding: "utf8" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("POSTGRES_PASSWORD");
  });
});
