import { db } from "@/lib/db";

export const dynamic = "force-dynamic";

// Placeholder home page until the participants' web app lands: it says so, and lists the tasks and the API.
export default async function HomePage() {
  const tasks = await db.task.findMany({ select: { slug: true, title: true }, orderBy: { id: "asc" } });
  return (
    <main className="mx-auto max-w-3xl space-y-4 p-6">
      <h1>MLS-GOAT</h1>
      <p>
        <strong>Placeholder page.</strong> The participants&apos; pages (sign-in, teams, upload form, live status,
        leaderboard) are not built yet. The API works today; see the README.
      </p>
      <h2>Tasks</h2>
      <ul>
        {tasks.map((task) => (
          <li key={task.slug}>
            <code>{task.slug}</code>: {task.title} (<a href={`/api/tasks/${task.slug}/leaderboard`}>leaderboard JSON</a>)
          </li>
        ))}
      </ul>
      <h2>API</h2>
      <pre>{`curl -X POST /submit/{task} -H "Authorization: Bearer TOKEN" -F "file=@model.onnx"
curl /submit/queue/status -H "Authorization: Bearer TOKEN"
curl /submit/{task}/status/{id} -H "Authorization: Bearer TOKEN"
curl /api/tasks/{task}/leaderboard`}</pre>
    </main>
  );
}
