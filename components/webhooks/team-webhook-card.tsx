import { Card } from "@/components/site/form-parts";
import type { SessionUser } from "@/lib/auth/session";
import { teamWebhook } from "@/lib/webhooks/settings";
import { DeliveryTable } from "./delivery-table";
import { RemoveTeamWebhookForm, TeamWebhookForm } from "./webhook-forms";

/** The team page's webhook: where the team hears that its submissions were scored or failed. */
export async function TeamWebhookCard({ user }: { user: SessionUser }) {
  const webhook = await teamWebhook(user);
  return (
    <Card title="Webhook">
      <p className="mb-3 text-sm text-slate-600">
        Post a message to your team&apos;s Slack or Discord channel (or any URL) when one of your submissions is scored or fails.
      </p>
      <div className="grid gap-4 md:grid-cols-2">
        <TeamWebhookForm url={webhook?.url} kind={webhook?.kind} />
        {webhook && (
          <div className="space-y-3 text-sm">
            {webhook.kind === "GENERIC" && (
              <p>
                Signing secret (verify the <code>X-Goat-Signature</code> header; see the README):{" "}
                <code className="select-all break-all rounded bg-slate-100 px-1" data-testid="webhook-secret">
                  {webhook.secret}
                </code>
              </p>
            )}
            {!webhook.enabled && <p className="text-amber-700">The organisers disabled this webhook.</p>}
            <RemoveTeamWebhookForm />
          </div>
        )}
      </div>
      {webhook && (
        <div className="mt-4">
          <h3 className="mb-2 text-sm font-semibold">Latest deliveries</h3>
          <DeliveryTable deliveries={webhook.deliveries} />
        </div>
      )}
    </Card>
  );
}
