import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import { BlockList, isIP } from 'node:net'
import path from 'node:path'
import { AppError, unprocessable } from './errors.ts'

/** Where seeds may come from (`ALLOW_LOCAL_SEEDS`, `ALLOW_PRIVATE_SEED_HOSTS`). */
export interface SeedSourcePolicy {
  localSeeds: 'allowed' | 'first-org' | 'refused'
  allowPrivateHosts: boolean
}

/** A source the policy allowed, in the form git is to be given. */
export type SeedSource =
  | { kind: 'local'; path: string }
  | {
      kind: 'remote'
      /** What git fetches: the URL after our own redirect checks, credentials kept for its origin only. */
      url: string
      /** `-c` options: the checked address pinned, git's own redirects off. */
      gitConfig: string[]
    }

export type SeedReadFailure = 'not_found' | 'auth_required' | 'not_a_repository' | 'unreachable' | 'too_large' | 'timeout'

/**
 * One answer for every source that could not be read, whatever git said: its stderr
 * would let an owner read files and probe hosts through error messages.
 */
export const seedUnreadable = (reason: SeedReadFailure) =>
  unprocessable('seed_source_unreachable', 'the source repository could not be read', { reason })

/** What git printed, reduced to one of the reasons we show. */
export function readFailure(stderr: string): SeedReadFailure {
  if (/Authentication failed|could not read (Username|Password)|terminal prompts disabled|Permission denied|returned error: 40[13]\b/i.test(stderr)) {
    return 'auth_required'
  }
  if (/does not appear to be a git repository|not a git repository|is this a git repository|not valid: .*repository/i.test(stderr)) return 'not_a_repository'
  if (/not found|returned error: 404\b|does not exist/i.test(stderr)) return 'not_found'
  return 'unreachable'
}

// Loopback, private, link-local, shared (CGNAT), multicast, reserved and "this network"
// ranges. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match the IPv4 rules.
const NOT_PUBLIC = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv4')
}
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['::', 96], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['2002::', 16],
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv6')
}

/** True for an address anyone on the internet could reach; false for loopback, private and the like. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 0) return false
  return !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

/**
 * The absolute directory a path or `file://` source names; undefined for a remote one
 * (`https://…`, `ssh://…`, `host:path`). git ignores a file URL's host and decodes `%XX`.
 */
export function localPath(source: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(source)?.[1]
  if (scheme?.toLowerCase() === 'file') {
    const rest = source.slice('file://'.length)
    const slash = rest.indexOf('/')
    let decoded: string | undefined
    try {
      decoded = slash < 0 ? undefined : decodeURIComponent(rest.slice(slash))
    } catch {
      decoded = undefined
    }
    if (!decoded) throw unprocessable('seed_source_invalid', 'a file:// source_url needs an absolute path, e.g. file:///srv/repo')
    return path.resolve(decoded)
  }
  if (scheme || /^[^/]+:/.test(source)) return undefined
  return path.resolve(source)
}

type Lookup = (host: string) => Promise<LookupAddress[]>

export interface SeedSourceOptions {
  policy: SeedSourcePolicy
  /** Whether the caller's org is the instance's first, asked only when the policy needs it. */
  isFirstOrg: () => Promise<boolean>
  /** Name resolution; the system resolver unless a test pins names. */
  lookup?: Lookup
  /** Which resolved addresses may be used when private hosts are not allowed. */
  addressAllowed?: (address: string) => boolean
  maxRedirects?: number
  timeoutMs?: number
}

const systemLookup: Lookup = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))))

const notAllowed = (message: string) => new AppError(422, 'seed_source_not_allowed', message)

/**
 * Applies the seed source policy to `source` and, for an http(s) source, follows its
 * redirects ourselves (each hop's host checked), so that git is handed a URL whose host
 * it reaches at the address we checked and that it will not leave.
 */
export async function prepareSeedSource(source: string, options: SeedSourceOptions): Promise<SeedSource> {
  if (source.startsWith('-')) throw unprocessable('seed_source_invalid', 'source_url must not start with "-"')
  const local = localPath(source)
  const { policy } = options
  if (local !== undefined) {
    const allowed = policy.localSeeds === 'allowed' || (policy.localSeeds === 'first-org' && (await options.isFirstOrg()))
    if (!allowed) {
      throw notAllowed(
        policy.localSeeds === 'first-org'
          ? "seeds from local paths are allowed only for this instance's first organisation (set ALLOW_LOCAL_SEEDS=true to allow them for every organisation)"
          : 'seeds from local paths are turned off on this server (ALLOW_LOCAL_SEEDS)',
      )
    }
    return { kind: 'local', path: local }
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(source)?.[1]?.toLowerCase()
  if (scheme !== 'http' && scheme !== 'https') {
    // ssh, git:// and scp-like sources connect where git's resolver says: nothing to pin.
    if (!policy.allowPrivateHosts) {
      throw notAllowed('only http(s) sources are allowed on this server (ALLOW_PRIVATE_SEED_HOSTS allows ssh and git:// sources)')
    }
    return { kind: 'remote', url: source, gitConfig: [] }
  }
  let url: URL
  try {
    url = new URL(source)
  } catch {
    throw unprocessable('seed_source_invalid', 'source_url is not a valid URL')
  }
  return followToRepository(url, options)
}

/**
 * Asks `<url>/info/refs?service=git-upload-pack`, as git's first request would, with
 * redirects handled here: a small hop limit, every hop's address checked and pinned, no
 * body read. Credentials go only to the origin they were given for.
 */
async function followToRepository(start: URL, options: SeedSourceOptions): Promise<SeedSource> {
  const maxRedirects = options.maxRedirects ?? 5
  const origin = start.origin
  const credentials = start.username || start.password ? { user: decodeURIComponent(start.username), password: decodeURIComponent(start.password) } : undefined
  let base = new URL(start.href.replace(/\/+$/, ''))
  base.username = ''
  base.password = ''
  for (let hop = 0; ; hop++) {
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw notAllowed('the source redirected to something that is not http(s)')
    const address = await checkedAddress(base, options)
    const probe = new URL(`${base.href}/info/refs?service=git-upload-pack`)
    const answer = await request(probe, address, base.origin === origin ? credentials : undefined, options.timeoutMs ?? 15_000)
    if (answer.location !== undefined) {
      if (hop >= maxRedirects) throw seedUnreadable('unreachable')
      const next = new URL(answer.location, probe)
      // git accepts a redirect only when it keeps the request's own path and query at its end.
      if (!next.pathname.endsWith('/info/refs') || next.search !== '?service=git-upload-pack') throw seedUnreadable('not_a_repository')
      next.pathname = next.pathname.slice(0, -'/info/refs'.length)
      next.search = ''
      next.hash = ''
      base = new URL(next.href.replace(/\/+$/, ''))
      continue
    }
    if (answer.status === 401 || answer.status === 403) throw seedUnreadable('auth_required')
    if (answer.status === 404 || answer.status === 410) throw seedUnreadable('not_found')
    if (answer.status !== 200) throw seedUnreadable('unreachable')
    if (/^text\/html\b/i.test(answer.contentType)) throw seedUnreadable('not_a_repository')
    const url = new URL(base.href)
    if (credentials && url.origin === origin) {
      url.username = start.username
      url.password = start.password
    }
    const port = url.port || (url.protocol === 'https:' ? '443' : '80')
    const literal = isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0
    return {
      kind: 'remote',
      url: url.href,
      gitConfig: [
        '-c', 'http.followRedirects=false',
        ...(literal ? [] : ['-c', `http.curloptResolve=${url.hostname}:${port}:${isIP(address) === 6 ? `[${address}]` : address}`]),
      ],
    }
  }
}

/** The address to connect to for `url`'s host, refused when it is not public and the policy wants public. */
async function checkedAddress(url: URL, options: SeedSourceOptions): Promise<string> {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  let addresses: string[]
  if (isIP(host)) addresses = [host]
  else {
    try {
      addresses = (await (options.lookup ?? systemLookup)(host)).map((a) => a.address)
    } catch {
      throw seedUnreadable('unreachable')
    }
  }
  if (addresses.length === 0) throw seedUnreadable('unreachable')
  const allowed = options.addressAllowed ?? isPublicAddress
  // Every address must pass: git could otherwise be steered to the one that does not.
  if (!options.policy.allowPrivateHosts && !addresses.every(allowed)) {
    throw notAllowed('the source resolves to a loopback, private or link-local address (ALLOW_PRIVATE_SEED_HOSTS allows it)')
  }
  return addresses[0]!
}

interface Answer {
  status: number
  location?: string
  contentType: string
}

/** One GET to `url`, connected to `address` whatever DNS says now; headers only. */
function request(url: URL, address: string, credentials: { user: string; password: string } | undefined, timeoutMs: number): Promise<Answer> {
  const family = isIP(address)
  const headers: Record<string, string> = { 'user-agent': 'git/2.39 (takehome)', accept: '*/*' }
  if (credentials) headers.authorization = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'GET',
      headers,
      signal: AbortSignal.timeout(timeoutMs),
      lookup: (_host, opts, callback) => {
        if ((opts as { all?: boolean }).all) (callback as (e: null, a: LookupAddress[]) => void)(null, [{ address, family }])
        else (callback as (e: null, a: string, f: number) => void)(null, address, family)
      },
    })
    req.on('response', (res) => {
      const status = res.statusCode ?? 0
      const location = status >= 300 && status < 400 ? res.headers.location : undefined
      resolve({ status, location, contentType: String(res.headers['content-type'] ?? '') })
      // Nothing of the body is needed: what git fetches, git reads under its own caps.
      res.destroy()
    })
    req.on('error', (err) => reject(seedUnreadable(err.name === 'AbortError' || err.name === 'TimeoutError' ? 'timeout' : 'unreachable')))
    req.end()
  })
}
