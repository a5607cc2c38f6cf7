import assert from 'node:assert/strict'
import { test } from 'node:test'
import { forwardedClient, signClientAddress } from '../../lib/client-address'

test('signs exactly as the API verifies (the pinned example of api/test/edge.test.ts)', () => {
  assert.deepEqual(signClientAddress('test-session-secret-0123456789abcdef0123', '203.0.113.5', 1_800_000_000_000), {
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
