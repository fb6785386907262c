import { createInterface } from "node:readline/promises";
import { Command, Option } from "commander";
import { errorFromResponse, GoatApi } from "./api.ts";
import { configPath, normaliseUrl, resolveConfig, saveConfig } from "./config.ts";
import { CliError, EXIT } from "./errors.ts";
import { FINAL_STATUSES, followSubmission, type SubmissionStatus } from "./follow.ts";
import { formatDate, formatScore, renderTable } from "./table.ts";
import { multipartModelBody, uploadProgressBar } from "./upload.ts";

/**
 * goat: the MLS-GOAT command line. Every command talks to the public HTTP API (documented at
 * /api/openapi.json); tables are for people, --json prints the API's answer for scripts.
 */
const program = new Command()
  .name("goat")
  .description("Submit ONNX models to an MLS-GOAT leaderboard and follow their results.")
  .version("0.1.0")
  .showHelpAfterError()
  .addHelpText(
    "after",
    `
Configuration: \`goat login\` stores the server's URL and your API token in ${configPath()} (mode 0600).
GOAT_URL and GOAT_TOKEN override it.

Exit codes: 0 done (submit --wait: scored), 1 failed (submit --wait: the evaluation failed or was
cancelled; any other error), 2 the server refused the upload at intake.`,
  );

let jsonOutput = false;
const jsonOption = () => new Option("--json", "print the API's JSON answer (for scripts)");

function print(text: string) {
  process.stdout.write(text + "\n");
}
function note(text: string) {
  process.stderr.write(text + "\n");
}
function printJson(value: unknown) {
  print(JSON.stringify(value, null, 2));
}

async function api(): Promise<GoatApi> {
  return new GoatApi(await resolveConfig());
}

function task(value: string): string {
  return encodeURIComponent(value);
}

function submissionId(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new CliError(`"${value}" is not a submission id.`, "Give the number `goat submit` printed.");
  return Number(value);
}

async function readToken(): Promise<string> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  try {
    return (await prompt.question("API token (create one on the server's /tokens page): ")).trim();
  } finally {
    prompt.close();
  }
}

program
  .command("login")
  .description("store the server's URL and your API token (checked against the server first)")
  .option("--url <url>", "the server, e.g. http://localhost:8000", process.env.GOAT_URL)
  .option("--token <token>", "an API token (read from stdin when left out)")
  .action(async (options: { url?: string; token?: string }) => {
    if (!options.url) throw new CliError("Which server?", "Run `goat login --url https://goat.example.org`.");
    const url = normaliseUrl(options.url);
    const token = options.token ?? process.env.GOAT_TOKEN ?? (await readToken());
    if (!token) throw new CliError("No token given.", "Create a token on the server's /tokens page and paste it.");
    const client = new GoatApi({ url, token });
    const response = await client.fetch("/submit/queue/status");
    if (!response.ok) throw await errorFromResponse(response);
    const file = await saveConfig({ url, token });
    print(`Logged in to ${url}; saved to ${file}.`);
  });

interface TaskSummary {
  slug: string;
  title: string;
  phase: string;
  closesAt: string | null;
  rankMetric: string;
  direction: string;
  teams: number;
}

program
  .command("tasks")
  .description("list the tasks: open, upcoming and closed")
  .addOption(jsonOption())
  .action(async () => {
    const answer = await (await api()).getJson<{ tasks: TaskSummary[] }>("/api/tasks");
    if (jsonOutput) return printJson(answer);
    if (!answer.tasks.length) return print("No tasks yet.");
    print(
      renderTable(
        ["TASK", "TITLE", "PHASE", "CLOSES", "METRIC", "TEAMS"],
        answer.tasks.map((each) => [each.slug, each.title, each.phase, formatDate(each.closesAt), `${each.rankMetric} (${each.direction === "MAXIMIZE" ? "higher" : "lower"} is better)`, each.teams]),
      ),
    );
  });

function describeStatus(status: SubmissionStatus): string {
  switch (status.status) {
    case "QUEUED":
      return `Submission ${status.id}: queued${status.queuePosition ? ` (position ${status.queuePosition})` : ""}`;
    case "RUNNING":
      return `Submission ${status.id}: running`;
    case "SCORED":
      return `Submission ${status.id}: scored ${formatScore(status.result?.score)} (${Object.entries(status.result?.metrics ?? {})
        .map(([name, value]) => `${name} ${formatScore(value)}`)
        .join(", ")})`;
    case "FAILED":
      return `Submission ${status.id}: failed${status.failureKind === "PLATFORM" ? " (a platform fault; it does not count against your quota)" : ""}: ${status.message ?? "no message"}`;
    default:
      return `Submission ${status.id}: ${status.status.toLowerCase()}${status.message ? `: ${status.message}` : ""}`;
  }
}

function exitCodeFor(status: SubmissionStatus): number {
  return status.status === "SCORED" ? EXIT.ok : EXIT.failed;
}

program
  .command("submit")
  .description("upload a model for evaluation")
  .argument("<task>", "the task, e.g. task2")
  .argument("<model>", "the .onnx file")
  .option("--name <name>", "a name for this submission (at most 100 characters), shown on your submissions page")
  .option("--description <text>", "notes on this submission (at most 1000 characters)")
  .option("--wait", "follow the evaluation until it is scored (exit 0) or failed (exit 1)")
  .addOption(jsonOption())
  .action(async (taskSlug: string, model: string, options: { wait?: boolean; name?: string; description?: string }) => {
    const client = await api();
    const bar = uploadProgressBar("Uploading");
    const fields = Object.fromEntries(Object.entries({ name: options.name, description: options.description }).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const upload = await multipartModelBody(model, (sent, total) => bar.update(sent, total), fields);
    let response: Response;
    try {
      response = await client.fetch(`/submit/${task(taskSlug)}`, {
        method: "POST",
        body: upload.body,
        headers: { "Content-Type": upload.contentType, "Content-Length": String(upload.contentLength) },
        // Node's fetch streams a ReadableStream body only in half-duplex mode.
        ...({ duplex: "half" } as object),
      });
    } finally {
      bar.stop();
    }
    if (!response.ok) throw await errorFromResponse(response, response.status < 500 ? EXIT.refused : EXIT.failed);
    const accepted = (await response.json()) as { id: number; task: string; status: string; queuePosition?: number | null };
    if (!options.wait) {
      if (jsonOutput) return printJson(accepted);
      print(`Submission ${accepted.id} accepted for ${accepted.task}${accepted.queuePosition ? ` (queue position ${accepted.queuePosition})` : ""}.`);
      print(`Follow it with: goat status ${accepted.id}`);
      return;
    }
    note(`Submission ${accepted.id} accepted; waiting for its evaluation.`);
    const final = await followSubmission(client, accepted.task, accepted.id, (status) => {
      if (!FINAL_STATUSES.has(status.status)) note(describeStatus(status));
    });
    if (jsonOutput) printJson(final);
    else print(describeStatus(final));
    process.exitCode = exitCodeFor(final);
  });

program
  .command("status")
  .description("one submission of your team: status, queue position, scores, failure message")
  .argument("<id>", "the submission id")
  .addOption(jsonOption())
  .action(async (id: string) => {
    const status = await (await api()).getJson<SubmissionStatus & { fileName: string; createdAt: string; sha256: string }>(`/api/submissions/${submissionId(id)}`);
    if (jsonOutput) return printJson(status);
    print(describeStatus(status));
    print(`  task ${status.task}, file ${status.fileName}, submitted ${formatDate(status.createdAt)}, sha256 ${status.sha256.slice(0, 12)}`);
  });

program
  .command("submissions")
  .description("your team's submissions for a task, newest first")
  .argument("<task>", "the task, e.g. task2")
  .addOption(jsonOption())
  .action(async (taskSlug: string) => {
    const answer = await (await api()).getJson<{ rankMetric: string; submissions: (SubmissionStatus & { fileName: string; createdAt: string })[] }>(
      `/api/tasks/${task(taskSlug)}/submissions`,
    );
    if (jsonOutput) return printJson(answer);
    if (!answer.submissions.length) return print(`Your team has no submissions for ${taskSlug} yet.`);
    print(
      renderTable(
        ["ID", "STATUS", answer.rankMetric.toUpperCase(), "FILE", "SUBMITTED", "MESSAGE"],
        answer.submissions.map((each) => [each.id, each.status, formatScore(each.result?.score), each.fileName, formatDate(each.createdAt), each.message]),
      ),
    );
  });

interface Leaderboard {
  task: string;
  metric: string;
  board: "public" | "private";
  revealed: boolean;
  entries: { rank: number; team: string; score: number; submissionCount: number; submittedAt: string; publicRank?: number }[];
}

program
  .command("leaderboard")
  .description("the best score of each team")
  .argument("<task>", "the task, e.g. task2")
  .option("--private", "the private leaderboard (once the organisers reveal it)")
  .addOption(jsonOption())
  .action(async (taskSlug: string, options: { private?: boolean }) => {
    const board = await (await api()).getJson<Leaderboard>(`/api/tasks/${task(taskSlug)}/leaderboard${options.private ? "?board=private" : ""}`);
    if (options.private && board.board !== "private") {
      throw new CliError(`The private leaderboard of ${taskSlug} is not revealed yet.`, `It appears once the organisers reveal it; \`goat leaderboard ${taskSlug}\` shows the public one.`);
    }
    if (jsonOutput) return printJson(board);
    if (!board.entries.length) return print(`No scored submissions on ${taskSlug} yet.`);
    const privateBoard = board.board === "private";
    print(
      renderTable(
        ["RANK", "TEAM", board.metric.toUpperCase(), "ENTRIES", "SUBMITTED", ...(privateBoard ? ["PUBLIC RANK"] : [])],
        board.entries.map((each) => [each.rank, each.team, formatScore(each.score), each.submissionCount, formatDate(each.submittedAt), ...(privateBoard ? [each.publicRank] : [])]),
      ),
    );
  });

program
  .command("select")
  .description("choose your team's final submissions for a task (those ranked on the private leaderboard)")
  .argument("<task>", "the task, e.g. task2")
  .argument("<ids...>", "submission ids")
  .addOption(jsonOption())
  .action(async (taskSlug: string, ids: string[]) => {
    const submissionIds = ids.map(submissionId);
    const { response, body } = await (await api()).postJson<{ finals?: number[] }>(`/api/tasks/${task(taskSlug)}/finals`, { submissionIds });
    if (!response.ok) {
      const error = await errorFromResponse(response);
      // A route this server does not have answers a 404 or 405 without our JSON error body.
      if ((response.status === 404 || response.status === 405) && error.code === null) {
        throw new CliError("Choosing final submissions is not available on this server yet.", "Every scored submission counts on this server; nothing to do.");
      }
      throw error;
    }
    if (jsonOutput) return printJson(body);
    print(`Final submissions for ${taskSlug}: ${(body?.finals ?? submissionIds).join(", ")}.`);
  });

program.hook("preAction", (_program, action) => {
  jsonOutput = Boolean(action.opts().json);
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CliError)) throw error;
  if (jsonOutput) printJson({ error: { code: error.code, status: error.status, message: error.message, hint: error.hint } });
  note(`error: ${error.message}`);
  if (error.hint) note(`  ${error.hint}`);
  process.exitCode = error.exitCode;
}
