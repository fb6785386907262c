// The organisers' command line: `npm run admin -- <command> [options]`. Run `npm run admin -- help`.
import fs from "node:fs/promises";
import { parseArgs } from "node:util";
import { z } from "zod";
import { addTeamMember, createTeam, createUser } from "@/lib/accounts/users";
import { createApiToken } from "@/lib/auth/api-token";
import { db } from "@/lib/db";
import { ApiError } from "@/lib/errors";
import { closeEvaluationQueue } from "@/lib/queue/evaluation-queue";
import { createTask, importDataset } from "@/lib/tasks/admin";

const USAGE = `MLS-GOAT admin

  user create   --email E --name N --password P [--admin]
  user list
  team create   --name N [--member EMAIL ...]
  team add-member --team NAME --email E
  team list
  token create  --email E [--name N] [--expires-days D]     prints the token once
  task create   --file task.json                             (see README, "Tasks")
  task import-dataset --task SLUG --inputs inputs.npy|inputs.npz --labels labels.npy [--train train.npz]
  task list
`;

type Flags = Record<string, string | boolean | string[] | undefined>;

function required(flags: Flags, name: string): string {
  const value = flags[name];
  if (typeof value !== "string" || value === "") throw new ApiError(400, "BAD_REQUEST", `--${name} is required.\n\n${USAGE}`);
  return value;
}

async function userByEmail(email: string) {
  const user = await db.user.findUnique({ where: { email: email.toLowerCase() }, select: { id: true, email: true } });
  if (!user) throw new ApiError(404, "NOT_FOUND", `No user with the email ${email}.`);
  return user;
}

async function teamByName(name: string) {
  const team = await db.team.findUnique({ where: { name }, select: { id: true, name: true } });
  if (!team) throw new ApiError(404, "NOT_FOUND", `No team named "${name}".`);
  return team;
}

const commands: Record<string, (flags: Flags) => Promise<unknown>> = {
  async "user create"(flags) {
    return createUser({ email: required(flags, "email"), name: required(flags, "name"), password: required(flags, "password"), role: flags.admin ? "ADMIN" : "PARTICIPANT" });
  },
  async "user list"() {
    return db.user.findMany({ select: { id: true, email: true, name: true, role: true, membership: { select: { team: { select: { name: true } } } } }, orderBy: { id: "asc" } });
  },
  async "team create"(flags) {
    const team = await createTeam(required(flags, "name"));
    for (const email of (flags.member as string[] | undefined) ?? []) await addTeamMember(team.id, (await userByEmail(email)).id);
    return team;
  },
  async "team add-member"(flags) {
    const team = await teamByName(required(flags, "team"));
    const user = await userByEmail(required(flags, "email"));
    await addTeamMember(team.id, user.id);
    return { team: team.name, member: user.email };
  },
  async "team list"() {
    return db.team.findMany({ select: { id: true, name: true, inviteCode: true, members: { select: { user: { select: { email: true } } } } }, orderBy: { id: "asc" } });
  },
  async "token create"(flags) {
    const user = await userByEmail(required(flags, "email"));
    const days = flags["expires-days"] ? z.coerce.number().positive().parse(flags["expires-days"]) : null;
    const expiresAt = days ? new Date(Date.now() + days * 24 * 3600 * 1000) : null;
    return createApiToken(user.id, typeof flags.name === "string" ? flags.name : "cli", expiresAt);
  },
  async "task create"(flags) {
    const config = JSON.parse(await fs.readFile(required(flags, "file"), "utf8"));
    return createTask(config);
  },
  async "task import-dataset"(flags) {
    return importDataset(required(flags, "task"), {
      inputs: required(flags, "inputs"),
      labels: required(flags, "labels"),
      train: typeof flags.train === "string" ? flags.train : undefined,
    });
  },
  async "task list"() {
    return db.task.findMany({ select: { id: true, slug: true, title: true, kind: true, rankMetric: true, direction: true, opensAt: true, closesAt: true, datasetVersion: true }, orderBy: { id: "asc" } });
  },
};

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      email: { type: "string" }, name: { type: "string" }, password: { type: "string" }, admin: { type: "boolean" },
      member: { type: "string", multiple: true }, team: { type: "string" }, "expires-days": { type: "string" },
      file: { type: "string" }, task: { type: "string" }, inputs: { type: "string" }, labels: { type: "string" },
      train: { type: "string" }, help: { type: "boolean" },
    },
  });
  const command = commands[positionals.slice(0, 2).join(" ")];
  if (!command || values.help) {
    console.log(USAGE);
    return values.help || positionals[0] === "help" ? 0 : 2;
  }
  const result = await command(values);
  console.log(JSON.stringify(result, (_, value) => (typeof value === "bigint" ? Number(value) : value), 2));
  return 0;
}

main(process.argv.slice(2))
  .then((code) => (process.exitCode = code))
  .catch((error) => {
    if (error instanceof z.ZodError) console.error(`Invalid input:\n${error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`).join("\n")}`);
    else console.error(error instanceof ApiError ? error.message : error);
    process.exitCode = 1;
  })
  // A dataset import with new content queues re-scores (docs/ranking.md): the queue's connection must not keep the process alive.
  .finally(() => Promise.all([db.$disconnect(), closeEvaluationQueue()]));
