'use client'

import { useActionState } from 'react'
import type { AccountSession } from './account-api'
import { joinAsCurrent, joinWithNewAccount, joinWithPassword } from './actions'
import { IDLE, linkProblemOf } from './action-state'
import { Field, FormAlert, NewPasswordField, Notice, SubmitButton } from './fields'
import { LinkRefused, NextSteps, SignedInAs } from './outcomes'

/**
 * The three ways to accept a member invitation: one click for the account this browser is
 * logged in as, a new account for the invited address, or logging in to an existing one.
 * Kept in one component so that whichever works replaces all three with the outcome.
 */
export function JoinPanel({ token, signedInAs }: { token: string; signedInAs: AccountSession | null }) {
  const [current, joinCurrent, joiningCurrent] = useActionState(joinAsCurrent, IDLE)
  const [created, create, creating] = useActionState(joinWithNewAccount, IDLE)
  const [existing, joinExisting, joiningExisting] = useActionState(joinWithPassword, IDLE)
  const states = [current, created, existing]

  const done = states.find((s) => s.done)?.done
  if (done) {
    return (
      <>
        <Notice tone="success">
          <p>
            <strong>You have joined {done.session?.org ?? 'the organisation'}.</strong> Welcome aboard.
          </p>
        </Notice>
        <SignedInAs session={done.session} />
        <NextSteps />
      </>
    )
  }

  const problem = states.map(linkProblemOf).find(Boolean)
  if (problem) {
    return <LinkRefused problem={problem} retry="Ask the person who invited you to send a new invitation." />
  }

  return (
    <>
      <p className="lead">
        Accept with a new account or with one you already have. The invitation works once, and only for the email address
        it was sent to.
      </p>

      {signedInAs && (
        <section className="account-choice" aria-labelledby="join-current-title">
          <h2 id="join-current-title">Join as {signedInAs.email}</h2>
          <p>This browser is logged in as {signedInAs.email}. If the invitation was sent to that address, join in one click.</p>
          <FormAlert state={current} />
          <form action={joinCurrent} className="account-form">
            <input type="hidden" name="token" value={token} />
            <SubmitButton pending={joiningCurrent} pendingText="Joining…">
              Join the organisation
            </SubmitButton>
          </form>
        </section>
      )}

      <section className="account-choice" aria-labelledby="join-new-title">
        <h2 id="join-new-title">Create your account</h2>
        <p>Your account uses the email address the invitation was sent to.</p>
        <FormAlert state={created} />
        <form action={create} className="account-form">
          <input type="hidden" name="token" value={token} />
          <Field id="new-name" name="name" label="Your name" type="text" autoComplete="name" state={created} required={false} maxLength={200} />
          <NewPasswordField id="new-password" state={created} />
          <SubmitButton pending={creating} pendingText="Creating your account…">
            Create account and join
          </SubmitButton>
        </form>
      </section>

      <section className="account-choice" aria-labelledby="join-existing-title">
        <h2 id="join-existing-title">{signedInAs ? 'Use another account' : 'I already have an account'}</h2>
        <FormAlert state={existing} />
        <form action={joinExisting} className="account-form">
          <input type="hidden" name="token" value={token} />
          <Field id="existing-email" name="email" label="Email" type="email" autoComplete="email" state={existing} maxLength={320} />
          <Field id="existing-password" name="password" label="Password" type="password" autoComplete="current-password" state={existing} maxLength={200} />
          <SubmitButton pending={joiningExisting} pendingText="Joining…">
            Log in and join
          </SubmitButton>
          <p className="muted">
            <a href="/reset-password">Forgot your password?</a>
          </p>
        </form>
      </section>
    </>
  )
}
