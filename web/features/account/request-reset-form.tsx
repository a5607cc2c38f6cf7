'use client'

import { useActionState } from 'react'
import { requestPasswordReset } from './actions'
import { IDLE } from './action-state'
import { Field, FormAlert, Notice, SubmitButton } from './fields'
import { lifetimeInWords, PASSWORD_RESET_TTL_MS } from './link-lifetimes'

/** Asks for a reset link; the answer is the same whether or not the address has an account. */
export function RequestResetForm() {
  const [state, action, pending] = useActionState(requestPasswordReset, IDLE)
  if (state.done) {
    return (
      <Notice tone="success">
        <p>
          <strong>Check your email.</strong> If an account exists for {state.values.email}, we have sent it a link to
          choose a new password. The link works once, within {lifetimeInWords(PASSWORD_RESET_TTL_MS)}.
        </p>
      </Notice>
    )
  }
  return (
    <>
      <p>Enter the email address of your account, and we will email you a link to choose a new password.</p>
      <FormAlert state={state} />
      <form action={action} className="account-form">
        <Field id="reset-email" name="email" label="Email" type="email" autoComplete="email" state={state} maxLength={320} />
        <SubmitButton pending={pending} pendingText="Sending…">
          Email me a link
        </SubmitButton>
      </form>
    </>
  )
}
