import assert from 'node:assert/strict'
import { afterEach, mock, test } from 'node:test'
import { clientAddressHeadersFrom, forwardedClient, signClientAddress, trustedProxyList } from '../../lib/client-address'

const SECRET = 'test-session-secret-0123456789abcdef0123'
const ENV = ['TAKEHOME_API_URL', 'SESSION_SECRET', 'TRUST_PROXY'] as const
const saved = Object.fromEntries(ENV.map((name) => [name, process.env[name]]))

afterEach(() => {
  for (const name of ENV) {
    if (saved[name] === undefined) delete process.env[name]
    else process.env[name] = saved[name]
  }
  mock.restoreAll()
})

/** The environment of a web process run apart from the API (hosted mode). */
function apart(env: Partial<Record<(typeof ENV)[number], string>>) {
  for (const name of ENV) delete process.env[name]
  Object.assign(process.env, { TAKEHOME_API_URL: 'http://api.internal:3000' }, env)
}

test('signs exactly as the API verifies (the pinned example of api/test/edge.test.ts)', () => {
  assert.deepEqual(signClientAddress(SECRET, '203.0.113.5', 1_800_000_000_000), {
    'x-takehome-client-ip': '203.0.113.5',
    'x-takehome-client-sig': '1800000000000.9gQSsj-9Ow0wdmvflcSp4tKfUlWawJpvKZAB6fNt-OE',
  })
})

test('behind N trusted proxies the client is the Nth entry from the right; what the client wrote further left is ignored', () => {
  assert.equal(forwardedClient('6.6.6.6, 198.51.100.7', 1), '198.51.100.7')
  assert.equal(forwardedClient('6.6.6.6, 198.51.100.7, 10.0.0.2', 2), '198.51.100.7')
  assert.equal(forwardedClient('198.51.100.7', 3), '198.51.100.7', 'fewer entries than proxies: the leftmost')
  assert.equal(forwardedClient('6.6.6.6, 198.51.100.7', 0), undefined, 'no trusted proxy: the header says nothing')
  assert.equal(forwardedClient(null, 1), undefined)
  assert.equal(forwardedClient('6.6.6.6, not-an-ip', 1), undefined)
})

test('behind listed proxies the client is the first entry from the right that is not one of them, as proxy-addr resolves it', () => {
  const cidr4 = trustedProxyList(['10.0.0.0/8', '203.0.113.9'])
  assert.equal(forwardedClient('6.6.6.6, 198.51.100.7, 10.1.2.3, 203.0.113.9', cidr4), '198.51.100.7', 'IPv4 CIDR and single address skipped')
  assert.equal(forwardedClient('6.6.6.6, 198.51.100.7', cidr4), '198.51.100.7', 'no proxy entry: the rightmost')
  assert.equal(forwardedClient('10.0.0.1, 10.0.0.2', cidr4), '10.0.0.1', 'every entry a proxy: the leftmost')
  assert.equal(forwardedClient('198.51.100.7, ::ffff:10.0.0.5', cidr4), '198.51.100.7', 'an IPv4-mapped address matches its IPv4 range')
  assert.equal(forwardedClient('198.51.100.7, 6.6.6.6, 10.0.0.5', cidr4), '6.6.6.6', 'the first untrusted entry wins, whatever lies left of it')
  assert.equal(forwardedClient('198.51.100.7, garbage, 10.0.0.5', cidr4), undefined, 'a client entry that is not an address: none')

  const cidr6 = trustedProxyList(['2001:db8::/32'])
  assert.equal(forwardedClient('2001:db9::7, 2001:db8:ffff::1, 2001:db8::2', cidr6), '2001:db9::7', 'IPv6 CIDR')

  const named = trustedProxyList(['loopback', 'linklocal', 'uniquelocal'])
  for (const proxy of ['127.0.0.1', '127.9.9.9', '::1', '169.254.10.1', 'fe80::1', '10.9.9.9', '172.16.5.4', '172.31.255.1', '192.168.1.1', 'fd12::1']) {
    assert.equal(forwardedClient(`6.6.6.6, 198.51.100.7, ${proxy}`, named), '198.51.100.7', `${proxy} is a named proxy range`)
  }
  for (const client of ['172.32.0.1', '11.0.0.1', 'fe00::1', '2001:db8::1']) {
    assert.equal(forwardedClient(`6.6.6.6, ${client}`, named), client, `${client} is not`)
  }
  const bad = trustedProxyList(['10.0.0.0/40', 'proxy.example', '10.0.0.1/8/8'])
  assert.equal(forwardedClient('198.51.100.7, 10.0.0.1', bad), '10.0.0.1', 'malformed entries trust nothing')
})

test('apart from the API, with SESSION_SECRET and TRUST_PROXY as a list, the client behind the proxies is signed', () => {
  apart({ SESSION_SECRET: SECRET, TRUST_PROXY: '10.0.0.0/8, loopback' })
  const sent = clientAddressHeadersFrom(new Headers({ 'x-forwarded-for': '6.6.6.6, 198.51.100.7, 10.0.0.3, 127.0.0.1' }))
  assert.equal(sent['x-takehome-client-ip'], '198.51.100.7')
  const timestamp = Number(sent['x-takehome-client-sig']!.split('.')[0])
  assert.deepEqual(sent, signClientAddress(SECRET, '198.51.100.7', timestamp), 'signed with the shared secret')

  process.env.TRUST_PROXY = '2'
  assert.equal(clientAddressHeadersFrom(new Headers({ 'x-forwarded-for': '6.6.6.6, 198.51.100.8, 10.0.0.3' }))['x-takehome-client-ip'], '198.51.100.8', 'a hop count still works')

  const forged = { 'x-takehome-client-ip': '198.51.100.1', 'x-takehome-client-sig': '1.forged' }
  assert.deepEqual(clientAddressHeadersFrom(new Headers(forged)), {}, 'what the caller sent under our names is never passed on')
})

test('mounted in the API server, the address the server signed is passed on as it is', () => {
  for (const name of ENV) delete process.env[name]
  const signed = signClientAddress(SECRET, '192.0.2.44')
  assert.deepEqual(clientAddressHeadersFrom(new Headers({ ...signed, 'x-forwarded-for': '6.6.6.6' })), signed)
  assert.deepEqual(clientAddressHeadersFrom(new Headers()), {})
})

test('apart from the API without SESSION_SECRET, one warning says the rate limits are shared', () => {
  const warn = mock.method(console, 'warn', () => {})
  apart({ TRUST_PROXY: '1' })
  assert.deepEqual(clientAddressHeadersFrom(new Headers({ 'x-forwarded-for': '198.51.100.7' })), {}, 'nothing can be signed')
  clientAddressHeadersFrom(new Headers({ 'x-forwarded-for': '198.51.100.8' }))
  assert.equal(warn.mock.callCount(), 1, 'once, at the first call')
  const message = String(warn.mock.calls[0]!.arguments[0])
  assert.match(message, /SESSION_SECRET is not set/)
  assert.match(message, /one rate-limit bucket, shared by all candidates/)
})
