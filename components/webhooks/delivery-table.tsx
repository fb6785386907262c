import type { DeliveryView } from "@/lib/webhooks/settings";

/** Webhook deliveries and the receivers' answers (the team page shows its own; the admin area all). */
export function DeliveryTable({ deliveries, showWebhook = false }: { deliveries: DeliveryView[]; showWebhook?: boolean }) {
  if (!deliveries.length) return <p className="text-sm text-slate-500">No deliveries yet.</p>;
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full text-left text-sm" data-testid="webhook-deliveries">
        <thead className="text-xs uppercase text-slate-500">
          <tr>
            <th className="py-1 pr-3">#</th>
            <th className="py-1 pr-3">Event</th>
            {showWebhook && <th className="py-1 pr-3">Webhook</th>}
            <th className="py-1 pr-3">Status</th>
            <th className="py-1 pr-3">Attempts</th>
            <th className="py-1 pr-3">HTTP</th>
            <th className="py-1 pr-3">Answer</th>
            <th className="py-1 pr-3">Last attempt</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {deliveries.map((delivery) => (
            <tr key={delivery.id}>
              <td className="py-1 pr-3 text-slate-500">{delivery.id}</td>
              <td className="py-1 pr-3 font-mono text-xs">{delivery.event}</td>
              {showWebhook && (
                <td className="max-w-xs truncate py-1 pr-3" title={delivery.url}>
                  {delivery.team ? `${delivery.team}: ` : "organisers: "}
                  {delivery.kind.toLowerCase()} {new URL(delivery.url).host}
                </td>
              )}
              <td className={`py-1 pr-3 ${delivery.status === "FAILED" ? "text-red-700" : delivery.status === "DELIVERED" ? "text-emerald-700" : "text-slate-600"}`}>{delivery.status.toLowerCase()}</td>
              <td className="py-1 pr-3">{delivery.attempts}</td>
              <td className="py-1 pr-3">{delivery.statusCode ?? "-"}</td>
              <td className="max-w-sm truncate py-1 pr-3 font-mono text-xs" title={delivery.answerExcerpt ?? ""}>
                {delivery.answerExcerpt ?? ""}
              </td>
              <td className="py-1 pr-3 text-xs text-slate-500">{delivery.lastAttemptAt?.replace("T", " ").slice(0, 19) ?? "-"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
