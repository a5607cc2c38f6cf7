import { createHmac, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

/**
 * The start page reaches the API from the web process, so every candidate's request has
 * the web's address. The web passes the candidate's own address in these headers, signed
 * with a key derived from SESSION_SECRET (which only our processes hold), so that rate
 * limits count per candidate; web/lib/client-address.ts signs the same way.
 */
export const CLIENT_IP_HEADER = 'x-takehome-client-ip'
export const CLIENT_SIG_HEADER = 'x-takehome-client-sig'

/** A signature is good this long either side of its timestamp: long enough for one page render. */
const MAX_SKEW_MS = 60_000

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed client address the web passed on, or else `request.ip`: what rate limits count by. */
    clientAddress: string
  }
  interface FastifyInstance {
    /** Sets the caller's address, signed, on the raw request: for the web app mounted in this process. */
    signClientAddressFor(request: FastifyRequest): void
  }
}

export function clientAddressKey(sessionSecret: string): Buffer {
  return createHmac('sha256', sessionSecret).update('takehome client address v1').digest()
}

const mac = (key: Buffer, address: string, timestamp: string) =>
  createHmac('sha256', key).update(`${address}\n${timestamp}`).digest('base64url')

export function signClientAddress(key: Buffer, address: string, now = Date.now()): Record<string, string> {
  const timestamp = String(now)
  return { [CLIENT_IP_HEADER]: address, [CLIENT_SIG_HEADER]: `${timestamp}.${mac(key, address, timestamp)}` }
}

/** The address in the headers if their signature is ours and fresh; undefined otherwise. */
export function verifiedClientAddress(key: Buffer, headers: FastifyRequest['headers'], now = Date.now()): string | undefined {
  const address = headers[CLIENT_IP_HEADER]
  const signature = headers[CLIENT_SIG_HEADER]
  if (typeof address !== 'string' || typeof signature !== 'string' || isIP(address) === 0) return undefined
  const [timestamp = '', given = ''] = signature.split('.', 2)
  if (!/^\d{1,15}$/.test(timestamp) || Math.abs(now - Number(timestamp)) > MAX_SKEW_MS) return undefined
  const expected = Buffer.from(mac(key, address, timestamp))
  const actual = Buffer.from(given)
  return actual.length === expected.length && timingSafeEqual(actual, expected) ? address : undefined
}

/**
 * Resolves `request.clientAddress` before anything counts requests, and hands the web app
 * (mounted in this process, in the embedded default) the caller's address signed, in place
 * of whatever the caller sent under those names.
 */
export default fp(
  async function clientAddress(app: FastifyInstance, opts: { sessionSecret: string }) {
    const key = clientAddressKey(opts.sessionSecret)
    app.decorateRequest('clientAddress', '')
    app.decorate('signClientAddressFor', (request: FastifyRequest) => {
      Object.assign(request.raw.headers, signClientAddress(key, request.ip))
    })
    // A callback hook, not an async one, touching the headers only when they are there:
    // it runs on every request, the broker's included.
    app.addHook('onRequest', (request, _reply, done) => {
      const headers = request.raw.headers
      if (headers[CLIENT_IP_HEADER] === undefined && headers[CLIENT_SIG_HEADER] === undefined) {
        request.clientAddress = request.ip
        return done()
      }
      request.clientAddress = verifiedClientAddress(key, request.headers) ?? request.ip
      delete headers[CLIENT_IP_HEADER]
      delete headers[CLIENT_SIG_HEADER]
      done()
    })
  },
  { name: 'client-address' },
)
