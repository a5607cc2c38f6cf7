import { createHmac, randomInt, randomUUID } from 'node:crypto'
import type { components } from '@octokit/openapi-types'
import { githubTime } from './git-read.ts'

/** One attempt at delivering a webhook, as `GET /app/hook/deliveries` lists it. */
export interface DeliveryAttempt {
  id: number
  guid: string
  event: string
  action: string | null
  /** 0 when the receiver could not be reached. */
  statusCode: number
  /** GitHub's words: `OK`, `Invalid HTTP Response: 500`, `failed to connect to host`, `timed out`. */
  status: string
  deliveredAt: Date
  redelivery: boolean
  durationS: number
  installationId: number | null
  repositoryId: number | null
  /** The exact bytes sent, so a redelivery sends them again. */
  body: string
  url: string | undefined
  requestHeaders: Record<string, string>
  responseHeaders: Record<string, string> | null
  /** The receiver's answer, its first 4 KiB at most (GitHub keeps a little too). */
  responseBody: string | null
}

export type HookDeliveryItem = components['schemas']['hook-delivery-item']
export type HookDelivery = components['schemas']['hook-delivery']

/** GitHub gives up on a receiver that has not answered in ten seconds. */
const TIMEOUT_MS = 10_000
const RESPONSE_KEPT_BYTES = 4096

/** The start of a response body; the rest is never read. */
async function readSome(response: Response, max: number): Promise<string> {
  if (!response.body) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  while (size < max) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    size += value.length
  }
  await reader.cancel()
  return Buffer.concat(chunks).subarray(0, max).toString('utf8')
}

/**
 * Signed webhook deliveries from the app's one webhook, recorded per attempt as GitHub
 * records them. GitHub never retries a failed one on its own; only a redelivery does.
 */
export function createWebhookSender({ secret, appId, hookId }: { secret: string; appId: string; hookId: number }) {
  let url: string | undefined
  const attempts: DeliveryAttempt[] = []
  const inFlight = new Set<Promise<unknown>>()
  let nextId = 90_000_000_000 + randomInt(1_000_000)

  async function attempt(event: string, guid: string, body: string, redelivery: boolean): Promise<DeliveryAttempt> {
    const parsed = JSON.parse(body) as { action?: unknown; installation?: { id?: unknown }; repository?: { id?: unknown } }
    const record: DeliveryAttempt = {
      id: nextId++,
      guid,
      event,
      action: typeof parsed.action === 'string' ? parsed.action : null,
      statusCode: 0,
      status: 'failed to connect to host',
      deliveredAt: new Date(),
      redelivery,
      durationS: 0,
      installationId: typeof parsed.installation?.id === 'number' ? parsed.installation.id : null,
      repositoryId: typeof parsed.repository?.id === 'number' ? parsed.repository.id : null,
      body,
      url,
      requestHeaders: {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/double',
        'x-github-event': event,
        'x-github-delivery': guid,
        'x-github-hook-id': String(hookId),
        'x-github-hook-installation-target-id': appId,
        'x-github-hook-installation-target-type': 'integration',
        'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      },
      responseHeaders: null,
      responseBody: null,
    }
    attempts.push(record)
    const started = performance.now()
    try {
      if (url === undefined) throw new Error('no webhook URL')
      const response = await fetch(url, { method: 'POST', headers: record.requestHeaders, body, signal: AbortSignal.timeout(TIMEOUT_MS) })
      record.responseHeaders = Object.fromEntries(response.headers)
      record.responseBody = await readSome(response, RESPONSE_KEPT_BYTES)
      record.statusCode = response.status
      record.status = response.ok ? 'OK' : `Invalid HTTP Response: ${response.status}`
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') record.status = 'timed out'
    }
    record.durationS = Math.round(performance.now() - started) / 1000
    return record
  }

  /** Runs a delivery in the background, where `settled()` can wait for it. */
  function track<T>(work: Promise<T>): Promise<T> {
    inFlight.add(work)
    void work.finally(() => inFlight.delete(work)).catch(() => {})
    return work
  }

  return {
    setUrl(next: string | undefined) {
      url = next
    },
    url: () => url,
    /** A new delivery, sent when a webhook URL is set (GitHub sends nothing to an inactive hook). */
    emit(event: string, payload: object) {
      if (url === undefined) return
      void track(attempt(event, randomUUID(), JSON.stringify(payload), false))
    },
    /** Sends at once, URL or not, and answers how it went. */
    async send(event: string, payload: object) {
      const record = await track(attempt(event, randomUUID(), JSON.stringify(payload), false))
      return { status: record.statusCode, guid: record.guid }
    },
    /** Sends an earlier attempt again: the same guid and body, marked as a redelivery. */
    redeliver(id: number): boolean {
      const earlier = attempts.find((a) => a.id === id)
      if (!earlier) return false
      void track(attempt(earlier.event, earlier.guid, earlier.body, true))
      return true
    },
    /** Work that may still send webhooks (a push under way), for `settled()` to wait on. */
    track,
    attempts: () => [...attempts],
    get: (id: number) => attempts.find((a) => a.id === id),
    async settled() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
    },
  }
}

export type WebhookSender = ReturnType<typeof createWebhookSender>

export function deliveryItem(a: DeliveryAttempt): HookDeliveryItem {
  return {
    id: a.id,
    guid: a.guid,
    delivered_at: githubTime(a.deliveredAt),
    redelivery: a.redelivery,
    duration: a.durationS,
    status: a.status,
    status_code: a.statusCode,
    event: a.event,
    action: a.action,
    installation_id: a.installationId,
    repository_id: a.repositoryId,
    throttled_at: null,
  }
}

export function deliveryDetail(a: DeliveryAttempt): HookDelivery {
  return {
    ...deliveryItem(a),
    id: a.id,
    installation_id: a.installationId,
    repository_id: a.repositoryId,
    url: a.url,
    request: { headers: a.requestHeaders, payload: JSON.parse(a.body) as Record<string, unknown> },
    response: { headers: a.responseHeaders, payload: a.responseBody },
  }
}
