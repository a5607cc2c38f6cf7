import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sessionCookieFrom } from './session-cookie'

test('reads the session cookie the API sets, decoded, with its expiry and Secure flag', () => {
  const cookie = sessionCookieFrom([
    'other=1; Path=/',
    'takehome_session=ths_abc.Zm9v%2Bbar%2F; Path=/; Expires=Wed, 09 Dec 2026 10:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
  ])
  assert.deepEqual(cookie, { value: 'ths_abc.Zm9v+bar/', expires: new Date('2026-12-09T10:00:00Z'), secure: true })
})

test('without Secure the cookie is not secure; Max-Age becomes a date', () => {
  const before = Date.now()
  const cookie = sessionCookieFrom(['takehome_session=v; Max-Age=60; Path=/; HttpOnly; SameSite=Lax'])
  assert.equal(cookie?.secure, false)
  assert.ok(cookie?.expires && cookie.expires.getTime() >= before + 60_000 && cookie.expires.getTime() <= Date.now() + 60_000)
})

test('nothing for other cookies, a cleared cookie or a value that does not decode', () => {
  assert.equal(sessionCookieFrom(['other=1; Path=/']), undefined)
  assert.equal(sessionCookieFrom(['takehome_session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT']), undefined)
  assert.equal(sessionCookieFrom(['takehome_session=%E0%A4%A; Path=/']), undefined)
  assert.equal(sessionCookieFrom([]), undefined)
})
