'use server'

import { redirect } from 'next/navigation'
import { isPlausibleToken, type ApiOutcome } from '../../lib/api-client'
import { toSentence } from '../start/format'
import { browserSession, forgetSession, passOnSession, postAccount, sessionOf } from './account-api'
import { IDLE, type AccountState } from './action-state'

// Anyone can call a Server Action, so each one authenticates itself: the emailed link's
// token (sent back from the page in a hidden field), a password, or the browser's own
// session cookie, each checked by the API. Tokens and passwords never go into a log, a
// URL or an answer: only a status and code leave here.

type Refusal = Exclude<ApiOutcome, { kind: 'ok' }>

/** Form fields by the API's body field names, with their labels for messages. */
type FieldMap = Record<string, { field: string; label: string }>

const EMAIL = { email: { field: 'email', label: 'Email' } }
const PASSWORD = { password: { field: 'password', label: 'Password' } }
const NAME = { name: { field: 'name', label: 'Name' } }
const ORG_NAME = { org_name: { field: 'org_name', label: 'Organisation name' } }

const EMAIL_TAKEN = 'This email address already has an account. Log in instead.'

/** Our words where the API's are written for API users rather than for these pages. */
const OUR_WORDS: Record<string, string> = {
  invalid_credentials: 'The email or password is incorrect.',
  email_taken: EMAIL_TAKEN,
  already_a_member: 'You are already a member of this organisation: there is nothing more to accept.',
  not_a_member: 'This account is not a member of any organisation yet, so it cannot log in here. Accept an invitation first.',
  unauthenticated: 'You are no longer logged in. Log in below to accept the invitation.',
}

const text = (value: FormDataEntryValue | null) => (typeof value === 'string' ? value : '')
const fail = (title: string, message: string, code: string, values: Record<string, string> = {}): AccountState => ({
  ...IDLE,
  error: { code, title, message },
  values,
})

/** `words`: this page's own, before the shared ones. */
function refused(
  outcome: Refusal,
  title: string,
  fields: FieldMap,
  values: Record<string, string>,
  words: Record<string, string> = {},
): AccountState {
  switch (outcome.kind) {
    case 'unreachable':
      return fail('We could not reach the service', 'Please try again in a minute: trying again is safe.', 'unavailable', values)
    case 'rate_limited': {
      const wait = outcome.retryAfterSeconds ? `${outcome.retryAfterSeconds} seconds` : 'a minute'
      return fail('Too many attempts', `Please wait ${wait}, then try again.`, 'rate_limited', values)
    }
    case 'error': {
      if (outcome.status >= 500 || !outcome.message) {
        console.error(`account page: API answered ${outcome.status} (${outcome.code})`)
        return fail(title, 'Something went wrong on our side. Please try again in a minute.', outcome.code, values)
      }
      if (outcome.code === 'validation_failed' && Array.isArray(outcome.details)) {
        const byField: Record<string, string> = {}
        for (const issue of outcome.details as Array<{ path?: unknown; message?: unknown }>) {
          const known = typeof issue.path === 'string' ? fields[issue.path.replace(/^body\./, '')] : undefined
          if (known && typeof issue.message === 'string') byField[known.field] ??= toSentence(`${known.label} ${issue.message}`)
        }
        if (Object.keys(byField).length > 0) return { ...IDLE, fields: byField, values }
      }
      return fail(title, words[outcome.code] ?? OUR_WORDS[outcome.code] ?? toSentence(outcome.message), outcome.code, values)
    }
  }
}

const INVALID_LINK: Refusal = { kind: 'error', status: 404, code: 'link_invalid', message: 'this link is not valid' }

/** Fields left empty, refused before the API is asked (the browser's `required` does the same). */
function missing(values: Record<string, string>, labels: Record<string, string>): AccountState | null {
  const fields: Record<string, string> = {}
  for (const [name, label] of Object.entries(labels)) if (!values[name]) fields[name] = `Enter your ${label}.`
  return Object.keys(fields).length > 0 ? { ...IDLE, fields } : null
}

/**
 * Success: the browser gets the session the API started, and the page says whose it is.
 * An answer without a session cookie we can pass on (a proxy that drops Set-Cookie, say)
 * leaves the browser logged out: said so here rather than found out at the next page.
 */
async function signedIn(outcome: ApiOutcome & { kind: 'ok' }, values: Record<string, string> = {}): Promise<AccountState> {
  if (await passOnSession(outcome)) return { ...IDLE, done: { session: sessionOf(outcome.body) } }
  console.error(`account page: the API answered ${outcome.status} without a session cookie to pass on`)
  return fail(
    'You are not logged in',
    'The service answered without a session for this browser. Try logging in; if this happens again, tell whoever runs this server.',
    'session_not_received',
    values,
  )
}

/** A new account for the invited address, through the emailed link, joining the organisation. */
export async function joinWithNewAccount(_previous: AccountState, form: FormData): Promise<AccountState> {
  const token = form.get('token')
  const name = text(form.get('name')).trim()
  const password = text(form.get('password'))
  const values = { name }
  if (!isPlausibleToken(token)) return refused(INVALID_LINK, 'The invitation could not be accepted', {}, values)
  const empty = missing({ password }, { password: 'password' })
  if (empty) return { ...empty, values }
  const outcome = await postAccount('/api/auth/signup', { invitation_token: token, password, ...(name ? { name } : {}) })
  if (outcome.kind !== 'ok') {
    return refused(outcome, 'Your account could not be created', { ...PASSWORD, ...NAME }, values, {
      email_taken: 'This email address already has an account. Log in with it below to accept the invitation.',
    })
  }
  return signedIn(outcome, values)
}

/**
 * An existing account accepts with its email and password, which the API checks as at
 * login and then that the account is the invited address; the browser gets the session.
 */
export async function joinWithPassword(_previous: AccountState, form: FormData): Promise<AccountState> {
  const token = form.get('token')
  const email = text(form.get('email')).trim()
  const password = text(form.get('password'))
  const values = { email }
  if (!isPlausibleToken(token)) return refused(INVALID_LINK, 'The invitation could not be accepted', {}, values)
  const empty = missing({ email, password }, { email: 'email address', password: 'password' })
  if (empty) return { ...empty, values }
  const outcome = await postAccount('/api/auth/join', { token, email, password })
  if (outcome.kind !== 'ok') return refused(outcome, 'The invitation could not be accepted', { ...EMAIL, ...PASSWORD }, values)
  return signedIn(outcome, values)
}

/** The browser is already logged in: accept as that account, in one click. */
export async function joinAsCurrent(_previous: AccountState, form: FormData): Promise<AccountState> {
  const token = form.get('token')
  if (!isPlausibleToken(token)) return refused(INVALID_LINK, 'The invitation could not be accepted', {}, {})
  const session = await browserSession()
  const outcome: ApiOutcome = session
    ? await postAccount('/api/auth/join', { token }, session)
    : { kind: 'error', status: 401, code: 'unauthenticated', message: 'log in first' }
  if (outcome.kind !== 'ok') return refused(outcome, 'The invitation could not be accepted', {}, {})
  return signedIn(outcome)
}

/** A new password through the emailed reset link; the API ends every session of the account. */
export async function resetPassword(_previous: AccountState, form: FormData): Promise<AccountState> {
  const token = form.get('token')
  const password = text(form.get('password'))
  const confirm = text(form.get('confirm'))
  if (!isPlausibleToken(token)) return refused(INVALID_LINK, 'Your password could not be changed', {}, {})
  const empty = missing({ password, confirm }, { password: 'new password', confirm: 'new password again' })
  if (empty) return empty
  if (password !== confirm) return { ...IDLE, fields: { confirm: 'The two passwords do not match.' } }
  const outcome = await postAccount('/api/auth/password-reset/confirm', { token, new_password: password })
  if (outcome.kind !== 'ok') {
    return refused(outcome, 'Your password could not be changed', { new_password: { field: 'password', label: 'Password' } }, {})
  }
  await forgetSession()
  const revoked = (outcome.body as { api_keys_revoked?: unknown } | null)?.api_keys_revoked
  return { ...IDLE, done: { session: null, apiKeysRevoked: typeof revoked === 'number' ? revoked : 0 } }
}

/** Asks for a reset link. The API answers the same whether or not the address has an account. */
export async function requestPasswordReset(_previous: AccountState, form: FormData): Promise<AccountState> {
  const email = text(form.get('email')).trim()
  const values = { email }
  const empty = missing({ email }, { email: 'email address' })
  if (empty) return { ...empty, values }
  const outcome = await postAccount('/api/auth/password-reset', { email })
  if (outcome.kind !== 'ok') return refused(outcome, 'We could not send the link', EMAIL, values)
  return { ...IDLE, values, done: { session: null } }
}

/** Confirms an open sign-up from its emailed link: creates the account and its organisation. */
export async function confirmSignup(_previous: AccountState, form: FormData): Promise<AccountState> {
  const token = form.get('token')
  if (!isPlausibleToken(token)) return refused(INVALID_LINK, 'Your organisation could not be created', {}, {})
  const outcome = await postAccount('/api/auth/signup/confirm', { token })
  if (outcome.kind !== 'ok') return refused(outcome, 'Your organisation could not be created', {}, {})
  return signedIn(outcome)
}

/**
 * A new organisation with its owner. The instance's first sign-up is created at once: the
 * browser gets its session and goes to the dashboard (a redirect, so that it works without
 * JavaScript too). Later ones, where sign-up is open, are confirmed from an emailed link.
 */
export async function signUp(_previous: AccountState, form: FormData): Promise<AccountState> {
  const name = text(form.get('name')).trim()
  const email = text(form.get('email')).trim()
  const orgName = text(form.get('org_name')).trim()
  const password = text(form.get('password'))
  const values = { name, email, org_name: orgName }
  const empty = missing(
    { email, password, org_name: orgName },
    { email: 'email address', password: 'password', org_name: 'organisation name' },
  )
  if (empty) return { ...empty, values }
  const outcome = await postAccount('/api/auth/signup', { email, password, org_name: orgName, ...(name ? { name } : {}) })
  if (outcome.kind !== 'ok') {
    // Only a race with another sign-up gets here: the address is what is refused.
    if (outcome.kind === 'error' && outcome.code === 'email_taken') return { ...IDLE, fields: { email: EMAIL_TAKEN }, values }
    return refused(outcome, 'Your organisation could not be created', { ...EMAIL, ...PASSWORD, ...NAME, ...ORG_NAME }, values)
  }
  if (outcome.status === 202) return { ...IDLE, values: { email }, done: { session: null } }
  const state = await signedIn(outcome, values)
  if (state.error) return state
  redirect('/dashboard')
}

export async function logIn(_previous: AccountState, form: FormData): Promise<AccountState> {
  const email = text(form.get('email')).trim()
  const password = text(form.get('password'))
  const values = { email }
  const empty = missing({ email, password }, { email: 'email address', password: 'password' })
  if (empty) return { ...empty, values }
  const outcome = await postAccount('/api/auth/login', { email, password })
  if (outcome.kind !== 'ok') return refused(outcome, 'We could not log you in', { ...EMAIL, ...PASSWORD }, values)
  return signedIn(outcome, values)
}
