'use client'

import { useActionState } from 'react'
import { signUp } from './actions'
import { IDLE } from './action-state'
import { Field, FormAlert, NewPasswordField, Notice, SubmitButton } from './fields'
import { lifetimeInWords, SIGNUP_CONFIRMATION_TTL_MS } from './link-lifetimes'

/**
 * Sign-up creates an organisation with you as its owner. A sign-up created at once goes
 * straight to the dashboard (the action redirects); one to confirm by email, or refused
 * because sign-up here is by invitation, ends on this page with what to do next.
 */
export function SignupForm() {
  const [state, action, pending] = useActionState(signUp, IDLE)
  if (state.done) {
    return (
      <Notice tone="success">
        <p>
          <strong>Check your email.</strong> We have sent an email to {state.values.email}. Open its link within{' '}
          {lifetimeInWords(SIGNUP_CONFIRMATION_TTL_MS)} to confirm: your organisation is then created, with you as its
          owner.
        </p>
      </Notice>
    )
  }
  if (state.error?.code === 'signup_closed') {
    return (
      <Notice tone="warning">
        <p>
          <strong>Sign-up is closed on this server.</strong> New members join an existing organisation by invitation: ask
          one of its owners or admins to invite you, then follow the emailed link. If you already have an account,{' '}
          <a href="/login">log in</a>.
        </p>
      </Notice>
    )
  }
  return (
    <>
      <p className="lead">Create your organisation: you become its owner, and invite your team and candidates from there.</p>
      <FormAlert state={state} />
      <form action={action} className="account-form">
        <Field id="signup-name" name="name" label="Your name" type="text" autoComplete="name" state={state} required={false} maxLength={200} />
        <Field id="signup-email" name="email" label="Email" type="email" autoComplete="email" state={state} maxLength={254} />
        <NewPasswordField id="signup-password" state={state} />
        <Field
          id="signup-org"
          name="org_name"
          label="Organisation name"
          type="text"
          autoComplete="organization"
          hint="Your company or team, as your teammates will see it when you invite them."
          maxLength={200}
          state={state}
        />
        <SubmitButton pending={pending} pendingText="Creating your organisation…">
          Sign up
        </SubmitButton>
        <p className="muted">
          Already have an account? <a href="/login">Log in</a>.
        </p>
      </form>
    </>
  )
}
