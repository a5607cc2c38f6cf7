'use client'

import type { Provider, SupabaseClient } from '@supabase/supabase-js'
import { useRouter } from 'next/navigation'
import { type FormEvent, useEffect, useRef, useState } from 'react'
import { ApiError, apiFetch } from '../../lib/console-api'
import { supabaseClientFor } from '../../lib/supabase-login-client'
import { Notice, SubmitButton } from './fields'
import { returnPath } from './return-to'
import './account.css'

/** The page `?next=` names, if it is one of this site's; the dashboard otherwise. */
const nextPage = () => returnPath(new URLSearchParams(window.location.search).get('next'), window.location.origin) ?? '/dashboard'

/** Where Supabase sends the browser back to after a magic link or an OAuth provider (PKCE: with `?code=`). */
export const callbackUrl = () => {
  const url = new URL('/login/callback', window.location.origin)
  const next = new URLSearchParams(window.location.search).get('next')
  if (next) url.searchParams.set('next', next)
  return url.toString()
}

const PROVIDER_NAMES: Record<string, string> = {
  github: 'GitHub',
  google: 'Google',
  gitlab: 'GitLab',
  azure: 'Microsoft',
  bitbucket: 'Bitbucket',
  apple: 'Apple',
  discord: 'Discord',
  slack_oidc: 'Slack',
  linkedin_oidc: 'LinkedIn',
}
// Entries of /auth/v1/settings' `external` that are not redirect providers.
const NOT_OAUTH = new Set(['email', 'phone', 'anonymous_users', 'saml'])

/** The OAuth providers enabled in the Supabase project, as its public settings list them. */
async function enabledProviders(url: string, anonKey: string): Promise<string[]> {
  const res = await fetch(`${url}/auth/v1/settings`, { headers: { apikey: anonKey } })
  if (!res.ok) return []
  const external = ((await res.json()) as { external?: Record<string, unknown> }).external ?? {}
  return Object.entries(external)
    .filter(([name, on]) => on === true && !NOT_OAUTH.has(name))
    .map(([name]) => name)
}

type Signed = { kind: 'member' } | { kind: 'no_org'; canCreate: boolean; message: string } | { kind: 'error'; message: string }

/** After Supabase signed someone in: are they a member of an org here, or do they need one? */
export async function takehomeStatus(): Promise<Signed> {
  try {
    await apiFetch('/api/auth/me')
    return { kind: 'member' }
  } catch (err) {
    if (err instanceof ApiError && err.code === 'no_organisation') {
      const canCreate = Boolean((err.details as { can_create_org?: unknown } | undefined)?.can_create_org)
      return { kind: 'no_org', canCreate, message: err.message }
    }
    return { kind: 'error', message: err instanceof Error ? err.message : 'Signing in failed.' }
  }
}

/** Creating the org of the instance's first user (or of anyone, with SIGNUP=open). */
export function Onboarding({ canCreate, message, onDone }: { canCreate: boolean; message: string; onDone: () => void }) {
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<string>()
  if (!canCreate) {
    return (
      <Notice tone="warning">
        <p>
          <strong>You are signed in, but not a member of an organisation here.</strong>
        </p>
        <p>Ask an owner or admin of your organisation to invite your email address, then follow the link in the invitation.</p>
      </Notice>
    )
  }
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const orgName = String(new FormData(event.currentTarget).get('org_name') ?? '')
    setPending(true)
    setError(undefined)
    try {
      await apiFetch('/api/auth/supabase/onboard', { method: 'POST', body: { org_name: orgName } })
      onDone()
    } catch (err) {
      setError(err instanceof ApiError ? (err.fieldMessage('org_name') ?? err.message) : 'Creating the organisation failed.')
      setPending(false)
    }
  }
  return (
    <form onSubmit={submit} className="account-form" aria-labelledby="onboard-title">
      <h2 id="onboard-title">Create your organisation</h2>
      <p className="muted">{message.split(':')[0]}. You will be its owner, and invite the others.</p>
      <div className="field">
        <label htmlFor="onboard-org">Organisation name</label>
        <input id="onboard-org" name="org_name" type="text" required maxLength={200} autoComplete="organization" aria-invalid={error ? true : undefined} aria-describedby={error ? 'onboard-error' : undefined} />
        {error && (
          <span id="onboard-error" className="field-error">
            {error}
          </span>
        )}
      </div>
      <SubmitButton pending={pending} pendingText="Creating…">
        Create organisation
      </SubmitButton>
    </form>
  )
}

/** What follows a Supabase sign-in on this page or the callback page: the console, onboarding, or why not. */
export function AfterSignIn({ sb }: { sb: SupabaseClient }) {
  const router = useRouter()
  const [status, setStatus] = useState<Signed>()
  useEffect(() => {
    let live = true
    void takehomeStatus().then((s) => {
      if (!live) return
      if (s.kind === 'member') router.replace(nextPage())
      setStatus(s)
    })
    return () => {
      live = false
    }
  }, [router])
  if (!status || status.kind === 'member') return <p role="status">Signing you in…</p>
  if (status.kind === 'no_org') return <Onboarding canCreate={status.canCreate} message={status.message} onDone={() => router.replace('/dashboard')} />
  return (
    <>
      <Notice tone="warning">
        <p>{status.message}</p>
      </Notice>
      <button type="button" className="button button-secondary" onClick={() => void sb.auth.signOut().then(() => window.location.assign('/login'))}>
        Sign out and try again
      </button>
    </>
  )
}

/**
 * The login page with Supabase Auth: email and password, a magic link, and the OAuth
 * providers the project enables, all with PKCE; supabase-js keeps and refreshes the session.
 */
export function SupabaseLogin({ url, anonKey }: { url: string; anonKey: string }) {
  const [sb] = useState(() => supabaseClientFor(url, anonKey))
  const [providers, setProviders] = useState<string[]>([])
  const [signedIn, setSignedIn] = useState(false)
  const [pending, setPending] = useState<'password' | 'link' | undefined>()
  const [error, setError] = useState<string>()
  const [linkSentTo, setLinkSentTo] = useState<string>()

  useEffect(() => {
    void enabledProviders(url, anonKey).then(setProviders, () => setProviders([]))
    void sb.auth.getSession().then(({ data }) => {
      if (data.session) setSignedIn(true)
    })
  }, [sb, url, anonKey])

  if (signedIn) return <AfterSignIn sb={sb} />

  async function withPassword(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    setPending('password')
    setError(undefined)
    const { error } = await sb.auth.signInWithPassword({ email: String(form.get('email') ?? ''), password: String(form.get('password') ?? '') })
    setPending(undefined)
    if (error) setError(error.code === 'invalid_credentials' ? 'Email or password is incorrect.' : error.message)
    else setSignedIn(true)
  }

  async function withLink(event: FormEvent<HTMLFormElement>) {
    event.preventDefault()
    const email = String(new FormData(event.currentTarget).get('email') ?? '')
    setPending('link')
    setError(undefined)
    const { error } = await sb.auth.signInWithOtp({ email, options: { emailRedirectTo: callbackUrl() } })
    setPending(undefined)
    if (error) setError(error.message)
    else setLinkSentTo(email)
  }

  return (
    <>
      {error && (
        <Notice tone="warning">
          <p>{error}</p>
        </Notice>
      )}
      <form onSubmit={withPassword} className="account-form" aria-label="Sign in with email and password">
        <div className="field">
          <label htmlFor="sb-email">Email</label>
          <input id="sb-email" name="email" type="email" autoComplete="email" required maxLength={320} />
        </div>
        <div className="field">
          <label htmlFor="sb-password">Password</label>
          <input id="sb-password" name="password" type="password" autoComplete="current-password" required maxLength={200} />
        </div>
        <SubmitButton pending={pending === 'password'} pendingText="Signing in…">
          Sign in
        </SubmitButton>
      </form>
      <form onSubmit={withLink} className="account-form" aria-label="Sign in with a magic link">
        {linkSentTo ? (
          <Notice tone="success">
            <p>Check {linkSentTo}: the link in the email signs you in.</p>
          </Notice>
        ) : (
          <>
            <div className="field">
              <label htmlFor="sb-link-email">Email me a sign-in link</label>
              <input id="sb-link-email" name="email" type="email" autoComplete="email" required maxLength={320} />
            </div>
            <SubmitButton pending={pending === 'link'} pendingText="Sending…">
              Send magic link
            </SubmitButton>
          </>
        )}
      </form>
      {providers.length > 0 && (
        <div className="account-form" role="group" aria-label="Sign in with a provider">
          {providers.map((provider) => (
            <button
              key={provider}
              type="button"
              className="button button-secondary"
              onClick={() => void sb.auth.signInWithOAuth({ provider: provider as Provider, options: { redirectTo: callbackUrl() } })}
            >
              Continue with {PROVIDER_NAMES[provider] ?? provider}
            </button>
          ))}
        </div>
      )}
    </>
  )
}

/** The page Supabase sends the browser back to: exchanges the PKCE code for a session, then goes on. */
export function SupabaseCallback({ url, anonKey }: { url: string; anonKey: string }) {
  const [sb] = useState(() => supabaseClientFor(url, anonKey))
  const [state, setState] = useState<'exchanging' | 'signed_in' | { error: string }>('exchanging')
  // A code is good for one exchange: an effect run twice (React's strict mode) must not spend it twice.
  const started = useRef(false)
  useEffect(() => {
    if (started.current) return
    started.current = true
    const params = new URLSearchParams(window.location.search)
    const fragment = new URLSearchParams(window.location.hash.slice(1))
    const refused = params.get('error_description') ?? fragment.get('error_description')
    const code = params.get('code')
    if (refused || !code) {
      setState({ error: refused ?? 'This sign-in link is incomplete. Sign in again.' })
      return
    }
    void sb.auth.exchangeCodeForSession(code).then(({ error }) => {
      // The code is in the address bar and in history: replace it, it has been used.
      const next = params.get('next')
      window.history.replaceState(null, '', next ? `${window.location.pathname}?next=${encodeURIComponent(next)}` : window.location.pathname)
      setState(error ? { error: error.message } : 'signed_in')
    })
  }, [sb])
  if (state === 'exchanging') return <p role="status">Signing you in…</p>
  if (state === 'signed_in') return <AfterSignIn sb={sb} />
  return (
    <Notice tone="warning">
      <p>{state.error}</p>
      <p>
        <a href="/login">Back to sign in</a>
      </p>
    </Notice>
  )
}
