import { createHmac } from 'node:crypto'
import { BlockList, isIP } from 'node:net'
import { headers } from 'next/headers'
import { runsApartFromApi, sharedSecret, trustedProxies } from './config'

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

/** The names proxy-addr (Fastify's trustProxy) gives address ranges; TRUST_PROXY takes them too. */
const NAMED_RANGES: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
}

function familyOf(address: string): 'ipv4' | 'ipv6' | undefined {
  const version = isIP(address)
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined
}

/**
 * TRUST_PROXY's list form as one matcher: addresses, IPv4 and IPv6 CIDRs, and the names
 * above. An IPv4-mapped IPv6 address matches its IPv4 range. An entry that is none of
 * these matches nothing (the API refuses it at start).
 */
export function trustedProxyList(entries: string[]): (address: string) => boolean {
  const list = new BlockList()
  for (const entry of entries.flatMap((e) => NAMED_RANGES[e] ?? [e])) {
    const [address = '', prefix, ...rest] = entry.split('/')
    const family = familyOf(address)
    const bits = prefix === undefined ? (family === 'ipv4' ? 32 : 128) : Number(prefix)
    if (!family || rest.length > 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 'ipv4' ? 32 : 128)) continue
    list.addSubnet(address, bits, family)
  }
  return (address) => {
    const family = familyOf(address)
    return family !== undefined && list.check(address, family)
  }
}

/**
 * The client as Fastify's trustProxy resolves it from X-Forwarded-For: each proxy appends
 * the address it saw, so walking from the right past every trusted proxy (the first
 * `hops`, or those `trust` matches) reaches the client; entries further left are the
 * client's own claims. If every entry is a trusted proxy, the leftmost is the client.
 * Next does not show this process the socket's peer, so the peer is taken to be a trusted
 * proxy: with TRUST_PROXY set, the web must be reachable only through its proxies.
 */
export function forwardedClient(forwardedFor: string | null, trust: number | ((address: string) => boolean)): string | undefined {
  if (!forwardedFor || trust === 0) return undefined
  const chain = forwardedFor.split(',').map((entry) => entry.trim())
  // The rightmost entry is one hop beyond the peer.
  const trusted = (i: number) => (typeof trust === 'number' ? chain.length - i < trust : trust(chain[i]!))
  let i = chain.length - 1
  while (i > 0 && trusted(i)) i--
  const address = chain[i]
  return address && isIP(address) !== 0 ? address : undefined
}

let warned = false

/**
 * Apart from the API, without the shared secret or any trusted proxy, the web cannot pass
 * candidates' addresses on: every start-page call counts against this process's one
 * rate-limit bucket, and a few bogus requests lock every candidate out. Said once, at the
 * first call, so the operator sees it without a flood.
 */
function warnIfSharedBucket(secret: string | undefined, trust: false | number | string[]) {
  if (warned || !runsApartFromApi()) return
  const missing = !secret
    ? 'SESSION_SECRET is not set (or is shorter than 32 characters), so candidates\' addresses cannot be signed'
    : trust === false
      ? 'TRUST_PROXY is not set, so this process cannot tell candidates\' addresses apart'
      : undefined
  if (!missing) return
  warned = true
  console.warn(
    `web: ${missing}: every start-page call counts against this web process's one rate-limit bucket, shared by all candidates. ` +
      'Set SESSION_SECRET to the API\'s value and TRUST_PROXY to the proxies in front of the web (a hop count or their addresses/CIDRs).',
  )
}

/** Headers that tell the API whose request this is, from the incoming request's headers. */
export function clientAddressHeadersFrom(incoming: Pick<Headers, 'get'>): Record<string, string> {
  if (!runsApartFromApi()) {
    // Mounted in the API server, which signed the caller's address into the request for us
    // (and removed anything the caller sent under these names).
    const ip = incoming.get(IP)
    const sig = incoming.get(SIG)
    return ip && sig ? { [IP]: ip, [SIG]: sig } : {}
  }
  // Apart, anything under those names came from the caller: never passed on.
  const secret = sharedSecret()
  const trust = trustedProxies()
  warnIfSharedBucket(secret, trust)
  if (!secret || trust === false) return {}
  const address = forwardedClient(incoming.get('x-forwarded-for'), typeof trust === 'number' ? trust : trustedProxyList(trust))
  return address ? signClientAddress(secret, address) : {}
}

/** Headers that tell the API whose request this is. */
export async function clientAddressHeaders(): Promise<Record<string, string>> {
  return clientAddressHeadersFrom(await headers())
}
