import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

/**
 * How a sandbox child is started: which wrappers go in front of `node child.mjs`, and as whom.
 * onnxruntime is a large C++ parser of untrusted files; a model cannot run code by design, but a
 * bug in the runtime could let it. So the child gets as little as the host allows:
 *
 * - an environment with only what onnxruntime needs (no DATABASE_URL, no secrets);
 * - a parent-death signal (SIGKILL, `setpriv --pdeathsig`): the child never outlives the worker;
 * - when the worker runs as root: an unprivileged uid of its own (CHILD_UIDS, `nobody`'s group),
 *   no supplementary groups, no capabilities, and `no_new_privs` (util-linux `setpriv`), so it
 *   cannot read root's files such as the worker's /proc/<pid>/environ, nor another child's
 *   /proc/<pid>/ (environ, mem) or ptrace it;
 * - where the kernel lets us create namespaces (root, or CAP_SYS_ADMIN): the namespaces of the
 *   children's launcher (spawner.ts), made when it starts (util-linux `unshare`): a network
 *   namespace (no interface but a down loopback: no socket reaches anything) and a mount namespace
 *   in which the dataset and model storage folders are covered by an empty tmpfs. A child (no
 *   capabilities, no_new_privs) can neither undo the covers nor bring an interface up, so
 *   namespaces of its own per child (until 2026-12-02) isolated nothing more; their `unshare`,
 *   shell and two `mount`s were four of the six programs started per evaluation, on hosts where
 *   starting a process is slow (docs/performance.md, "The namespaces, once per launcher").
 *
 * What the host does not allow is logged once as a warning and skipped; docs/security-sandbox.md
 * says what then remains open.
 */

export interface IsolationOptions {
  /** Folders the child must not see (the dataset folder with the labels, model storage). */
  hidePaths?: readonly string[];
  /** Folders the child needs (its entry file, node_modules, private model folders): never hidden. */
  keepPaths?: readonly string[];
  /** Run the child as this user when the worker is root ("nobody" by default); null: same user. */
  user?: string | null;
}

/** A range of uids: `first`, `first + 1`, ..., `first + count - 1`. */
export interface UidRange {
  first: number;
  count: number;
}

/**
 * The uids sandbox children run as when the worker is root, each child the next one in turn (from
 * a random start per worker), so that no two living children share one: a child that broke out of
 * onnxruntime could otherwise read a spare's memory through /proc/<pid>/mem, or ptrace it, and
 * tamper with the next team's evaluation (no Yama on these hosts; processes of one uid may). The
 * group is the sandbox user's (`nobody`'s). Below 65,536, so that a user namespace mapping 65,536
 * ids (rootless Docker, userns-remap) has them; a host where setpriv refuses them runs every child
 * as the sandbox user, with a warning.
 */
export const CHILD_UIDS: UidRange = { first: 61_000, count: 1_000 };

export function inUidRange(range: UidRange, uid: number): boolean {
  return range.first <= uid && uid < range.first + range.count;
}

export interface IsolationPlan {
  /** Wrap `node args...` into the command to spawn; `uid`: the child's, where it changes user. */
  wrap(node: string, args: readonly string[]): { command: string; args: string[]; uid: number | undefined };
  /**
   * Wrap the children's launcher (spawner.ts): the parent-death signal, where setpriv has it, so
   * that it dies with the worker even if its event loop were stuck; and the namespaces its children
   * inherit, where the host has them: a network namespace, and a mount namespace in which the hidden
   * folders are covered. It keeps the worker's user.
   */
  wrapLauncher(node: string, args: readonly string[]): { command: string; args: string[] };
  /** The uids children run as (files they must read are made readable to them); undefined: the worker's own. */
  uids: UidRange | undefined;
  gid: number | undefined;
  network: "namespace" | "host";
  /**
   * The kernel kills the child when the worker dies (setpriv's parent-death signal, SIGKILL); else
   * the child runs a watchdog thread that does it (child.ts).
   */
  diesWithParent: boolean;
  hiddenPaths: string[];
  warnings: string[];
}

/** The only variables the child keeps: onnxruntime's CUDA/driver settings and library path. */
const CHILD_ENV_KEEP = /^(LD_LIBRARY_PATH|CUDA_[A-Z0-9_]+|NVIDIA_[A-Z0-9_]+|ORT_[A-Z0-9_]+|OMP_NUM_THREADS|TZ)$/;

export function sandboxChildEnv(source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) if (value !== undefined && CHILD_ENV_KEEP.test(key)) env[key] = value;
  return env;
}

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const [user, , uid, gid] = line.split(":");
      if (user === name && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    // no /etc/passwd (not Linux)
  }
  return undefined;
}

/** The absolute path of a program on the worker's PATH: the child's environment has no PATH. */
function findProgram(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function commandWorks(command: string | undefined, args: string[]): command is string {
  if (!command) return false;
  const result = spawnSync(command, args, { stdio: "ignore", timeout: 5000 });
  return result.status === 0;
}

/** setpriv can take the first and the last of CHILD_UIDS here (a user namespace may map fewer ids); tried once per group. */
const childUidsProbed = new Map<number, boolean>();
function childUidsWork(host: HostSupport, gid: number): boolean {
  let works = childUidsProbed.get(gid);
  if (works === undefined) {
    const last = CHILD_UIDS.first + CHILD_UIDS.count - 1;
    works = [CHILD_UIDS.first, last].every((uid) => commandWorks(host.setpriv, [`--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--", host.truePath]));
    childUidsProbed.set(gid, works);
  }
  return works;
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/**
 * Mounts an empty, inaccessible tmpfs over each folder given, then execs the rest; without the PWD
 * that the shell would export (the launcher's environment holds nothing but its IPC channel's).
 */
const HIDE_SCRIPT = 'unset PWD; n=$1; shift; while [ "$n" -gt 0 ]; do mount -t tmpfs -o size=4k,mode=000 goat-hidden "$1" || exit 97; shift; n=$((n-1)); done; exec "$@"';

interface HostSupport {
  setpriv: string | undefined;
  /** setpriv can set the parent-death signal (util-linux 2.33 and later). */
  pdeathsig: boolean;
  unshare: string | undefined;
  namespaces: "net+mount" | "net" | "none";
  /** `true`, which the probes run */
  truePath: string;
}
let probed: HostSupport | undefined;

/** What this host lets us use, tried once per process (a few ms). */
function probeHost(): HostSupport {
  if (probed) return probed;
  const setprivPath = findProgram("setpriv");
  const unsharePath = findProgram("unshare");
  const truePath = findProgram("true") ?? "/bin/true";
  const setpriv = commandWorks(setprivPath, ["--no-new-privs", truePath]) ? setprivPath : undefined;
  let namespaces: HostSupport["namespaces"] = "none";
  if (commandWorks(unsharePath, ["--net", "--mount", "--", truePath])) namespaces = "net+mount";
  else if (commandWorks(unsharePath, ["--net", "--", truePath])) namespaces = "net";
  const pdeathsig = setpriv !== undefined && commandWorks(setpriv, ["--pdeathsig", "KILL", "--", truePath]);
  probed = { setpriv, pdeathsig, unshare: namespaces === "none" ? undefined : unsharePath, namespaces, truePath };
  return probed;
}

export function planIsolation(opts: IsolationOptions = {}): IsolationPlan {
  const host = probeHost();
  const warnings: string[] = [];
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

  let user: { uid: number; gid: number } | undefined;
  const userName = opts.user === undefined ? "nobody" : opts.user;
  if (isRoot && userName !== null) {
    user = lookupUser(userName);
    if (!user) warnings.push(`sandbox: no user "${userName}" on this host; the sandbox child runs as root`);
  } else if (!isRoot) {
    warnings.push("sandbox: the worker does not run as root, so the sandbox child runs as the worker's user and can read what it can (its /proc/<pid>/environ included)");
  }
  if (!host.setpriv) warnings.push("sandbox: util-linux setpriv not found; the child runs without no_new_privs");
  if (user && !host.setpriv) warnings.push("sandbox: dropping to an unprivileged user needs setpriv; the sandbox child runs as root");

  const keep = (opts.keepPaths ?? []).map((p) => path.resolve(p));
  const hiddenPaths: string[] = [];
  for (const raw of opts.hidePaths ?? []) {
    const dir = path.resolve(raw);
    if (hiddenPaths.includes(dir)) continue;
    let isDir = false;
    try {
      isDir = existsSync(dir) && statSync(dir).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) continue;
    if (keep.some((k) => isInside(k, dir))) {
      warnings.push(`sandbox: ${dir} holds files the sandbox child needs, so it stays visible to it`);
      continue;
    }
    hiddenPaths.push(dir);
  }
  if (host.namespaces === "none") {
    warnings.push("sandbox: the kernel refused new namespaces (unshare --net): the sandbox child keeps the host network and sees the dataset and storage folders (file permissions still apply)");
  } else if (host.namespaces === "net" && hiddenPaths.length > 0) {
    warnings.push("sandbox: no mount namespace here (unshare --mount refused): the dataset and storage folders stay visible to the sandbox child (file permissions still apply)");
  }

  const dropUser = user !== undefined && host.setpriv;
  let uids: UidRange | undefined;
  if (dropUser) {
    uids = childUidsWork(host, user!.gid) ? CHILD_UIDS : { first: user!.uid, count: 1 };
    if (uids !== CHILD_UIDS) {
      warnings.push(`sandbox: setpriv refused uids ${CHILD_UIDS.first}-${CHILD_UIDS.first + CHILD_UIDS.count - 1} here; every sandbox child runs as "${userName}", so a child could read another's /proc/<pid>/ files`);
    }
  }
  let turn = randomInt(CHILD_UIDS.count);
  const nextUid = (range: UidRange) => range.first + (turn++ % range.count);
  const wrap = (node: string, args: readonly string[]) => {
    let command = node;
    let argv = [...args];
    let uid: number | undefined;
    if (host.setpriv) {
      const privs = ["--no-new-privs"];
      // The kernel kills the child when the worker dies, even inside a synchronous session.run.
      if (host.pdeathsig) privs.push("--pdeathsig", "KILL");
      if (uids) {
        uid = nextUid(uids);
        privs.push(`--reuid=${uid}`, `--regid=${user!.gid}`, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all");
      }
      argv = [...privs, "--", command, ...argv];
      command = host.setpriv;
    }
    // The namespaces, and the covers, are the launcher's (wrapLauncher): the child inherits them.
    return { command, args: argv, uid };
  };

  const hidden = host.namespaces === "net+mount" ? hiddenPaths : [];
  const wrapLauncher = (node: string, args: readonly string[]) => {
    let argv = [node, ...args];
    if (hidden.length > 0) argv = [host.unshare!, "--net", "--mount", "--", "/bin/sh", "-c", HIDE_SCRIPT, "sh", String(hidden.length), ...hidden, ...argv];
    else if (host.namespaces !== "none") argv = [host.unshare!, "--net", "--", ...argv];
    // First, so that it covers the wrappers' start too (it survives their execs: no change of user).
    if (host.setpriv && host.pdeathsig) argv = [host.setpriv, "--pdeathsig", "KILL", "--", ...argv];
    return { command: argv[0], args: argv.slice(1) };
  };

  return {
    wrap,
    wrapLauncher,
    uids,
    gid: dropUser ? user!.gid : undefined,
    network: host.namespaces === "none" ? "host" : "namespace",
    diesWithParent: host.setpriv !== undefined && host.pdeathsig,
    hiddenPaths: hidden,
    warnings,
  };
}

/** The worker's folders a sandbox child must not see: every task's dataset (labels) and stored or fetched models. */
export function sandboxHiddenPaths(env: { DATA_DIR: string; STORAGE_BACKEND: string; STORAGE_DIR: string; S3_DOWNLOAD_DIR?: string }): string[] {
  if (env.STORAGE_BACKEND === "directory") return [env.DATA_DIR, env.STORAGE_DIR];
  return env.S3_DOWNLOAD_DIR ? [env.DATA_DIR, env.S3_DOWNLOAD_DIR] : [env.DATA_DIR];
}
