import { createHmac } from 'node:crypto'
import { isIP } from 'node:net'
import { headers } from 'next/headers'
import { sharedSecret, trustedProxyHops } from './config'

// The API counts rate limits per client. Every start-page call reaches it from this
// process, so the candidate's own address goes with it, signed with a key derived from
// the secret only our processes hold. The format is the API's
// (api/src/plugins/app/client-address.ts, which verifies it); the web reaches the API
// over HTTP only, so the few lines that sign are kept here rather than imported.
const IP = 'x-takehome-client-ip'
const SIG = 'x-takehome-client-sig'

export function signClientAddress(secret: string, address: string, now = Date.now()): Record<string, string> {
  const key = createHmac('sha256', secret).update('takehome client address v1').digest()
  const timestamp = String(now)
  const mac = createHmac('sha256', key).update(`${address}\n${timestamp}`).digest('base64url')
  return { [IP]: address, [SIG]: `${timestamp}.${mac}` }
}

/**
 * The client behind `hops` trusted proxies, as Fastify's trustProxy resolves it: each
 * proxy appends the address it saw, so the entry `hops` from the right is the one the
 * outermost trusted proxy saw; entries further left are the client's own claims.
 */
export function forwardedClient(forwardedFor: string | null, hops: number): string | undefined {
  if (hops < 1 || !forwardedFor) return undefined
  const chain = forwardedFor.split(',').map((entry) => entry.trim())
  const address = chain[Math.max(0, chain.length - hops)]
  return address && isIP(address) !== 0 ? address : undefined
}

/** Headers that tell the API whose request this is. */
export async function clientAddressHeaders(): Promise<Record<string, string>> {
  const incoming = await headers()
  const secret = sharedSecret()
  const address = secret ? forwardedClient(incoming.get('x-forwarded-for'), trustedProxyHops()) : undefined
  if (secret && address) return signClientAddress(secret, address)
  // Mounted in the API server, which signed the caller's address into the request for us
  // (and removed anything the caller sent under these names).
  const ip = incoming.get(IP)
  const sig = incoming.get(SIG)
  return ip && sig ? { [IP]: ip, [SIG]: sig } : {}
}
