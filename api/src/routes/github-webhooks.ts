import { AppError, type Config, type Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Logger } from 'pino'
import { Probot } from 'probot'
import { z } from 'zod'
import { errors } from './common.ts'

export interface GitHubWebhookOptions {
  services: Services
  github: Pick<NonNullable<Config['github']>, 'appId' | 'privateKey' | 'webhookSecret' | 'apiUrl'>
  logger: Logger
  rateLimit: { max: number; timeWindow: number }
}

/** GitHub caps a webhook payload at 25 MB and drops the delivery past that. */
const MAX_PAYLOAD_BYTES = 25 * 1024 * 1024
// GitHub's delivery ids are UUIDs, its event names snake_case words: anything else is not GitHub.
const DELIVERY_ID = /^[0-9A-Za-z-]{1,100}$/
const EVENT_NAME = /^[a-z_]{1,100}$/
const HANDLED = new Set(['push', 'repository', 'installation', 'installation_repositories'])
const HEADERS = ['x-github-delivery', 'x-github-event', 'x-hub-signature-256'] as const

/**
 * What @octokit/webhooks throws, as our error: it wraps handler errors in an AggregateError
 * and puts the whole event on them, which is no log's business.
 */
function unwrap(err: unknown): unknown {
  const inner: unknown = err instanceof AggregateError && err.errors.length > 0 ? err.errors[0] : err
  if (inner instanceof Error && 'event' in inner) delete inner.event
  return inner
}

/**
 * `POST /api/github/webhooks` (GitHub App mode): Probot checks `X-Hub-Signature-256` over
 * the body exactly as it arrived, then dispatches to core, which records each delivery with
 * its effect before we answer 2xx. Encapsulated, so its raw-body JSON parser and its body
 * limit apply to this route only.
 */
const githubWebhooks: FastifyPluginAsyncZod<GitHubWebhookOptions> = async (app, { services, github, logger, rateLimit }) => {
  const events = services.githubEvents
  const probot = new Probot({
    appId: github.appId,
    privateKey: github.privateKey,
    secret: github.webhookSecret,
    baseUrl: github.apiUrl,
    // Probot logs a failed event with its payload; core and our error handler log deliveries instead.
    log: logger.child({ name: 'probot' }, { level: 'silent' }),
  })
  probot.on('push', ({ id, payload }) => events.push(id, payload))
  probot.on('repository', ({ id, payload }) => events.repository(id, payload))
  probot.on('installation', ({ id, payload }) => events.installation(id, 'installation', payload))
  probot.on('installation_repositories', ({ id, payload }) => events.installation(id, 'installation_repositories', payload))
  probot.onAny(({ id, name, payload }) => (HANDLED.has(name) ? undefined : events.ignore(id, name, payload)))
  await probot.ready()

  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: MAX_PAYLOAD_BYTES }, (_request, body, done) => done(null, body))

  app.post(
    '/api/github/webhooks',
    {
      bodyLimit: MAX_PAYLOAD_BYTES,
      config: { rateLimit },
      // Checked before the body is read: without these headers it is not GitHub, whatever it sends.
      onRequest: async (request) => {
        const missing = HEADERS.filter((h) => !request.headers[h])
        if (missing.length > 0) throw new AppError(400, 'webhook_headers_missing', `a GitHub webhook carries ${missing.join(', ')}`)
      },
      schema: {
        tags: ['github'],
        summary: "GitHub App webhooks: push, repository, installation and installation_repositories; others are recorded and ignored",
        description:
          'Signed by GitHub (`X-Hub-Signature-256`, HMAC-SHA256 of the raw body with GITHUB_WEBHOOK_SECRET). Each `X-GitHub-Delivery` takes effect once. ' +
          'Missing headers answer 400 `webhook_headers_missing`, a bad signature 401 `webhook_signature_invalid`.',
        response: { 200: z.object({ received: z.literal(true) }), ...errors },
      },
    },
    async (request) => {
      // Node joins a repeated header of these into one string; onRequest saw each present.
      const [id, name, signature] = HEADERS.map((h) => request.headers[h]) as [string, string, string]
      if (!DELIVERY_ID.test(id) || !EVENT_NAME.test(name)) {
        throw new AppError(400, 'webhook_headers_invalid', 'X-GitHub-Delivery or X-GitHub-Event is not as GitHub sends it')
      }
      const payload = typeof request.body === 'string' ? request.body : ''
      const verified = await probot.webhooks.verify(payload, signature).catch(() => false)
      if (!verified) {
        throw new AppError(401, 'webhook_signature_invalid', 'X-Hub-Signature-256 does not match the body and the webhook secret')
      }
      let event: unknown
      try {
        event = JSON.parse(payload)
      } catch {
        throw new AppError(400, 'invalid_json', 'the body is not JSON')
      }
      // Verified above: receive() dispatches without hashing a body of up to 25 MB a second time.
      // The payload's shape is checked by core's schemas when an event is handled.
      await probot.webhooks.receive({ id, name, payload: event } as Parameters<Probot['webhooks']['receive']>[0]).catch((err: unknown) => {
        throw unwrap(err)
      })
      return { received: true as const }
    },
  )
}

export default githubWebhooks
