import { Card } from "@/components/site/form-parts";
import { DeliveryTable } from "@/components/webhooks/delivery-table";
import { ChangeWebhookButton, OrganiserWebhookForm } from "@/components/webhooks/webhook-forms";
import { currentUser } from "@/lib/auth/session";
import { ORGANISER_EVENTS } from "@/lib/webhooks/messages";
import { organiserWebhooks, recentDeliveries, teamWebhooks, type WebhookView } from "@/lib/webhooks/settings";

export const dynamic = "force-dynamic";
export const metadata = { title: "Webhooks · MLS-GOAT admin" };

function WebhookList({ webhooks }: { webhooks: WebhookView[] }) {
  if (!webhooks.length) return <p className="text-sm text-slate-500">None.</p>;
  return (
    <ul className="divide-y divide-slate-100 text-sm" data-testid="webhook-list">
      {webhooks.map((webhook) => (
        <li key={webhook.id} className="flex flex-wrap items-center gap-2 py-2">
          <span className="font-medium">{webhook.team ?? "Organisers"}</span>
          <span className="rounded bg-slate-100 px-1.5 text-xs">{webhook.kind.toLowerCase()}</span>
          <span className="max-w-md truncate font-mono text-xs" title={webhook.url}>
            {webhook.url}
          </span>
          <span className="text-xs text-slate-500">{webhook.events.join(", ")}</span>
          {!webhook.enabled && <span className="text-xs text-amber-700">disabled</span>}
          <span className="ml-auto flex gap-2">
            <ChangeWebhookButton webhookId={webhook.id} change={webhook.enabled ? "disable" : "enable"} label={webhook.enabled ? "Disable" : "Enable"} />
            <ChangeWebhookButton webhookId={webhook.id} change="delete" label="Delete" />
          </span>
        </li>
      ))}
    </ul>
  );
}

export default async function AdminWebhooksPage() {
  const actor = await currentUser();
  const [organisers, teams, deliveries] = await Promise.all([organiserWebhooks(actor), teamWebhooks(actor), recentDeliveries(actor)]);
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-semibold">Webhooks</h1>
      <div className="grid gap-4 md:grid-cols-2">
        <Card title="The organisers' webhooks">
          <WebhookList webhooks={organisers} />
        </Card>
        <Card title="Add one">
          <OrganiserWebhookForm events={ORGANISER_EVENTS} />
        </Card>
      </div>
      <Card title={`Teams' webhooks (${teams.length})`}>
        <WebhookList webhooks={teams} />
      </Card>
      <Card title="Latest deliveries">
        <DeliveryTable deliveries={deliveries} showWebhook />
      </Card>
    </div>
  );
}
