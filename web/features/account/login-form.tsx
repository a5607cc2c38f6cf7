'use client'

import { useActionState } from 'react'
import { logIn } from './actions'
import { IDLE } from './action-state'
import { Field, FormAlert, SubmitButton } from './fields'
import { NextSteps, SignedInAs } from './outcomes'

export function LoginForm() {
  const [state, action, pending] = useActionState(logIn, IDLE)
  if (state.done) {
    return (
      <>
        <div className="notice notice-success" role="status">
          <p>
            <strong>You are logged in.</strong>
          </p>
        </div>
        <SignedInAs session={state.done.session} />
        <NextSteps />
      </>
    )
  }
  return (
    <>
      <FormAlert state={state} />
      <form action={action} className="account-form">
        <Field id="login-email" name="email" label="Email" type="email" autoComplete="email" state={state} maxLength={320} />
        <Field id="login-password" name="password" label="Password" type="password" autoComplete="current-password" state={state} maxLength={200} />
        <SubmitButton pending={pending} pendingText="Logging in…">
          Log in
        </SubmitButton>
        <p className="muted">
          <a href="/reset-password">Forgot your password?</a>
        </p>
      </form>
    </>
  )
}
