import type { ReactNode } from 'react'
import type { AccountSession } from './account-api'
import type { LinkProblem } from './action-state'
import { Notice } from './fields'

/** A page's whole answer when there is nothing left to do on it, in the start page's card. */
export function Problem({ title, children }: { title: string; children: ReactNode }) {
  return (
    <article className="card" aria-labelledby="problem-title">
      <h1 id="problem-title">{title}</h1>
      {children}
    </article>
  )
}

const LINK_TITLES: Record<LinkProblem, string> = {
  link_invalid: 'This link does not work',
  link_used: 'This link has already been used',
  link_expired: 'This link has expired',
  link_revoked: 'This invitation was withdrawn',
}

/**
 * An emailed link that no longer works, with what to do about it. `retry` says how to get
 * a new one: each kind of link has its own way.
 */
export function LinkRefused({ problem, retry }: { problem: LinkProblem; retry: ReactNode }) {
  return (
    <Notice tone="warning">
      <p>
        <strong>{LINK_TITLES[problem]}.</strong>{' '}
        {problem === 'link_invalid' && 'It may be incomplete or mistyped: open it again from your email, using the whole link. '}
        {problem === 'link_used' && 'Each link works once. '}
        {retry}
      </p>
    </Notice>
  )
}

/** Whose session the browser now holds. */
export function SignedInAs({ session }: { session: AccountSession | null }) {
  if (!session) return <p>You are logged in in this browser.</p>
  return (
    <p>
      You are logged in as <strong>{session.email}</strong> in <strong>{session.org}</strong>, with the role{' '}
      <strong>{session.role}</strong>.
    </p>
  )
}

/** Where a logged-in member goes from here: the console, or the API for scripts. */
export function NextSteps() {
  return (
    <section aria-labelledby="next-title">
      <h2 id="next-title">What next</h2>
      <p>
        Go to the <a href="/dashboard">dashboard</a> to manage seeds, assessments and candidates. To script the same
        work, use the HTTP API documented at <a href="/docs">/docs</a> with an API key from{' '}
        <code>POST /api/api-keys</code>.
      </p>
    </section>
  )
}
