import { Card } from "@/components/site/form-parts";
import { RelativeTime } from "@/components/site/relative-time";
import { ScrollTable } from "@/components/site/scroll-table";
import { CurlCommands } from "@/components/tasks/curl-commands";
import { CreateTokenForm, RevokeTokenButton } from "@/components/tokens/token-forms";
import { apiTokensOfUser } from "@/lib/auth/api-token-list";
import { requireUser } from "@/lib/auth/session";
import { publicBaseUrl } from "@/lib/http/public-url";
import { taskCatalog } from "@/lib/tasks/catalog";

export const dynamic = "force-dynamic";
export const metadata = { title: "API tokens" };

export default async function TokensPage() {
  const user = await requireUser("/tokens");
  const [tokens, tasks, baseUrl] = await Promise.all([apiTokensOfUser(user), taskCatalog(), publicBaseUrl()]);
  const exampleTasks = tasks.filter((task) => task.phase !== "closed").slice(0, 3);

  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-semibold">API tokens</h1>
      <p className="text-slate-700">
        A token lets scripts and <code>curl</code> submit models as you, for your team{user.team ? ` "${user.team.name}"` : " (join a team first)"}. Only a
        fingerprint is stored: the token itself is shown once, when you create it.
      </p>
      <Card title="Create a token">
        <CreateTokenForm example={tasks.length ? { baseUrl, taskSlug: (exampleTasks[0] ?? tasks[0]).slug } : undefined} />
      </Card>
      <Card title="Your tokens">
        {tokens.length === 0 ? (
          <p className="text-sm text-slate-600">No tokens yet.</p>
        ) : (
          <ScrollTable label="Your tokens">
            <table className="w-full text-left text-sm" data-testid="token-table">
              <thead className="text-xs uppercase text-slate-500">
                <tr>
                  <th className="py-2 pr-3">Name</th>
                  <th className="py-2 pr-3">Starts with</th>
                  <th className="py-2 pr-3">Created</th>
                  <th className="py-2 pr-3">Last used</th>
                  <th className="py-2 pr-3">State</th>
                  <th className="py-2">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {tokens.map((token) => (
                  <tr key={token.id} className={token.state === "active" ? "" : "text-slate-500"} data-testid="token-row" data-state={token.state}>
                    <td className="py-2 pr-3 font-medium">{token.name}</td>
                    <td className="py-2 pr-3 font-mono">{token.prefix}…</td>
                    <td className="py-2 pr-3">
                      <RelativeTime iso={token.createdAt} />
                    </td>
                    <td className="py-2 pr-3">
                      <RelativeTime iso={token.lastUsedAt} />
                    </td>
                    <td className="py-2 pr-3">{token.state}</td>
                    <td className="py-2 text-right">{!token.revokedAt && <RevokeTokenButton tokenId={token.id} name={token.name} />}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollTable>
        )}
      </Card>
      <Card title="Use it">
        <div className="space-y-3">
          {(exampleTasks.length ? exampleTasks : tasks.slice(0, 1)).map((task) => (
            <div key={task.slug}>
              <p className="mb-1 text-sm font-medium">{task.title}</p>
              <CurlCommands baseUrl={baseUrl} taskSlug={task.slug} />
            </div>
          ))}
          {tasks.length === 0 && <p className="text-sm text-slate-600">No tasks yet.</p>}
        </div>
      </Card>
    </div>
  );
}
