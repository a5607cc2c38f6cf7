import { z } from 'zod'
import type { WebhookDelivery, WebhookDeliveryLog } from '../webhook-deliveries.ts'
import { type GitHubClients, githubError } from './client.ts'

const PAGE_SIZE = 100

const deliverySchema = z.object({
  id: z.number().int(),
  guid: z.string(),
  event: z.string(),
  action: z.string().nullish(),
  status_code: z.number().int(),
  delivered_at: z.string().transform((v) => new Date(v)),
  redelivery: z.boolean(),
})

/** The app's webhook deliveries (`/app/hook/deliveries`, app JWT), newest first. */
export function createWebhookDeliveryLog(clients: GitHubClients): WebhookDeliveryLog {
  return {
    async listSince(since) {
      const found: WebhookDelivery[] = []
      try {
        // GitHub lists newest first, a page per cursor in the Link header: stop at the first older than `since`.
        for await (const page of clients.app.paginate.iterator('GET /app/hook/deliveries', { per_page: PAGE_SIZE })) {
          for (const raw of page.data) {
            const d = deliverySchema.parse(raw)
            if (d.delivered_at < since) return found
            found.push({
              id: d.id,
              guid: d.guid,
              event: d.event,
              action: d.action ?? null,
              statusCode: d.status_code,
              deliveredAt: d.delivered_at,
              redelivery: d.redelivery,
            })
          }
        }
      } catch (err) {
        throw githubError(err, "list the app's webhook deliveries")
      }
      return found
    },

    async redeliver(id) {
      try {
        await clients.app.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: id })
      } catch (err) {
        throw githubError(err, 'redeliver a webhook')
      }
    },
  }
}
