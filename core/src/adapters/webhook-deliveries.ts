/**
 * The GitHub App's own record of the webhooks it sent (`GET /app/hook/deliveries`). GitHub
 * does not retry a failed delivery, so a scheduled job reads this and asks for redelivery.
 */
export interface WebhookDelivery {
  /** GitHub's numeric id of this attempt, used to redeliver it. */
  id: number
  /** `X-GitHub-Delivery`: the same for a delivery and its redeliveries. */
  guid: string
  event: string
  action: string | null
  /** HTTP status our endpoint answered (0 when it could not be reached). */
  statusCode: number
  deliveredAt: Date
  redelivery: boolean
}

export interface WebhookDeliveryLog {
  /** Attempts delivered since `since`, newest first, paginated through. */
  listSince(since: Date): Promise<WebhookDelivery[]>
  /** Asks GitHub to send that delivery again (`POST /app/hook/deliveries/{id}/attempts`). */
  redeliver(id: number): Promise<void>
}
