import type { IncomingMessage, ServerResponse } from 'node:http'
import cookie from '@fastify/cookie'
import { createFastCredential, credentialBroker, gitGateway, serverAnsweringFirst } from '@takehome/broker'
import { type Config, createSupabaseAuth, type GitHost, type Services, type SupabaseAuth } from '@takehome/core'
import Fastify, { type FastifyReply } from 'fastify'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Logger } from 'pino'
import { z } from 'zod'
import { AccessLog } from './access-log.ts'
import auth from './plugins/app/auth.ts'
import clientAddress, { clientAddressKey, verifiedClientAddress } from './plugins/app/client-address.ts'
import errorHandler from './plugins/app/error-handler.ts'
import rateLimit, { rateKey } from './plugins/external/rate-limit.ts'
import securityHeaders, { SECURITY_HEADERS } from './plugins/external/security-headers.ts'
import swagger from './plugins/external/swagger.ts'
import adminRoutes from './routes/admin/index.ts'
import authRoutes from './routes/auth.ts'
import githubWebhooks from './routes/github-webhooks.ts'
import healthRoutes from './routes/health.ts'
import startRoutes from './routes/start.ts'

export interface RateLimit {
  max: number
  timeWindow: number
}

export interface AppOptions {
  services: Services
  config: Pick<Config, 'publicUrl' | 'appBaseUrl' | 'secureCookies' | 'sessionSecret' | 'trustProxy'> &
    Partial<Pick<Config, 'metricsToken' | 'github' | 'supabase'>>
  logger: Logger
  /**
   * Where candidate repositories live, served at /r/<slug>.git: the local host's under its
   * `candidatesRoot` (GIT_PROJECT_ROOT), GitHub's (`remote`) through the gateway's proxy.
   */
  gitHost: GitHost & { candidatesRoot?: string }
  /** The Supabase access-token verifier, when the caller made its own (its clock); else one is made from `config.supabase`. */
  supabaseAuth?: SupabaseAuth
  rateLimits?: Partial<typeof DEFAULT_RATE_LIMITS>
  /** BullMQ's job counts for /metrics, in hosted mode. */
  queueCounts?: () => Promise<Record<string, number>>
  /** Serves every path that is not ours (the web app, in the embedded default). */
  fallback?: (req: IncomingMessage, res: ServerResponse) => Promise<void>
}

// zod's default for a missing field is "Invalid input: expected string, received undefined".
z.config({ customError: (issue) => (issue.input === undefined ? 'is required' : undefined) })

const OWN_PATHS = /^\/(api|docs|git|r)(\/|$)|^\/(healthz|readyz|metrics)$/

export const DEFAULT_RATE_LIMITS = {
  auth: { max: 10, timeWindow: 60_000 },
  start: { max: 60, timeWindow: 60_000 },
  credential: { max: 120, timeWindow: 60_000 },
  // One clone or push is 2-3 requests; a classroom behind one NAT address makes many.
  git: { max: 3_000, timeWindow: 60_000 },
  // GitHub sends from a few addresses, a push webhook per push: generous, but a flood of
  // unsigned 25 MB bodies is still cut off.
  webhooks: { max: 1_200, timeWindow: 60_000 },
}

function trustHops(hops: number) {
  return (_address: string, hop: number) => hop < hops
}

/** Registers plugins and routes only; the composition root (server.ts) builds what it needs. */
export async function buildApp(opts: AppOptions) {
  const { services, config } = opts
  const rateLimits = { ...DEFAULT_RATE_LIMITS, ...opts.rateLimits }
  // Fastify ignores a numeric trustProxy (5.12): a hop count is given as a function.
  const trustProxy = typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy
  const genReqId = () => crypto.randomUUID()
  const addressKey = clientAddressKey(config.sessionSecret)
  // git's credential helper (GET /git/credential) is answered before Fastify sees it, with
  // what the plugins below give every answer; the route registered below stays for the
  // docs, HEAD and inject().
  const fastCredential = createFastCredential({
    services,
    gitHost: opts.gitHost,
    publicUrl: config.publicUrl,
    rateLimit: rateLimits.credential,
    logger: opts.logger,
    genReqId,
    headers: SECURITY_HEADERS,
    trustProxy,
    rateKey: (req, ip) => rateKey(verifiedClientAddress(addressKey, req.headers) ?? ip),
  })
  const app = Fastify({
    loggerInstance: opts.logger,
    serverFactory: serverAnsweringFirst(fastCredential),
    trustProxy,
    bodyLimit: 1024 * 1024,
    requestIdHeader: false,
    genReqId,
    logController: new AccessLog(),
    // Idle sockets close after 5 minutes: mirroring a large seed can be silent that long.
    connectionTimeout: 5 * 60_000,
    // Receiving a request may take long (a big push on a slow link); headers still must
    // arrive within Node's headersTimeout, which is what stops slow-header attacks.
    requestTimeout: 60 * 60_000,
    routerOptions: { maxParamLength: 200 },
    // Errors Fastify raises before routing (a malformed or over-long URL) skip the error
    // handler; answer them in our shape too, without echoing the URL back.
    frameworkErrors: (err, request, reply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      const status: number = tooLong ? 414 : 400
      void (reply as unknown as FastifyReply)
        .status(status)
        .header('x-request-id', request.id)
        .send({
          error: {
            code: tooLong ? 'url_too_long' : 'bad_url',
            message: tooLong ? 'a part of the URL is too long' : 'the URL is malformed',
            request_id: request.id,
          },
        })
    },
  }).withTypeProvider<ZodTypeProvider>()

  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })

  // An empty body with a JSON content type (some clients always send one) means no body.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    body === '' ? done(null, undefined) : parseJson(request, body as string, done),
  )

  await app.register(securityHeaders)
  await app.register(errorHandler)
  await app.register(swagger, { publicUrl: config.publicUrl })
  await app.register(clientAddress, { sessionSecret: config.sessionSecret })
  await app.register(rateLimit)
  await app.register(cookie, { secret: config.sessionSecret })
  const supabase = opts.supabaseAuth ?? (config.supabase ? createSupabaseAuth({ config: config.supabase, logger: opts.logger }) : undefined)
  await app.register(auth, { services, trustedOrigins: [config.publicUrl, config.appBaseUrl], supabase })

  await app.register(healthRoutes, { services, gitHost: opts.gitHost, queueCounts: opts.queueCounts, metricsToken: config.metricsToken, trustProxy: config.trustProxy })
  await app.register(authRoutes, { services, config, rateLimit: rateLimits.auth })
  await app.register(startRoutes, { services, rateLimit: rateLimits.start })
  await app.register(adminRoutes, { services })
  if (config.github) await app.register(githubWebhooks, { services, github: config.github, logger: opts.logger, rateLimit: rateLimits.webhooks })
  await app.register(credentialBroker, { services, gitHost: opts.gitHost, publicUrl: config.publicUrl, rateLimit: rateLimits.credential })
  await app.register(gitGateway, { services, gitHost: opts.gitHost, rateLimit: rateLimits.git })

  app.setNotFoundHandler(async (request, reply) => {
    if (opts.fallback && !OWN_PATHS.test(request.url.split('?')[0]!)) {
      reply.hijack()
      app.signClientAddressFor(request)
      return opts.fallback(request.raw, reply.raw)
    }
    return reply.status(404).send({
      error: { code: 'route_not_found', message: `no route ${request.method} ${request.url.split('?')[0]}`, request_id: request.id },
    })
  })

  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
