'use client'

import { useRouter } from 'next/navigation'
import { useActionState, useEffect } from 'react'
import { logIn } from './actions'
import { IDLE } from './action-state'
import { Field, FormAlert, Notice, SubmitButton } from './fields'
import { SignedInAs } from './outcomes'
import { returnPath } from './return-to'

/** The console page that sent the browser here (`?next=`), if it is a page of this site. */
const returnTo = () => returnPath(new URLSearchParams(window.location.search).get('next'), window.location.origin)

export function LoginForm() {
  const [state, action, pending] = useActionState(logIn, IDLE)
  const router = useRouter()
  const loggedIn = Boolean(state.done)
  useEffect(() => {
    const next = loggedIn ? returnTo() : undefined
    if (next) router.replace(next)
  }, [loggedIn, router])
  if (state.done) {
    return (
      <>
        <Notice tone="success">
          <p>
            <strong>You are logged in.</strong>
          </p>
        </Notice>
        <SignedInAs session={state.done.session} />
        <p>
          <a className="button" href="/dashboard">
            Go to the dashboard
          </a>
        </p>
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
        <p className="muted">
          New to Takehome? <a href="/signup">Sign up</a> to create your organisation.
        </p>
      </form>
    </>
  )
}
