'use client'

import { useActionState, useState } from 'react'
import { resetPassword } from './actions'
import { IDLE, linkProblemOf } from './action-state'
import { Field, FormAlert, NewPasswordField, Notice, SubmitButton } from './fields'
import { LinkRefused } from './outcomes'

const MISMATCH = 'The two passwords do not match.'

/** A new password, twice. The browser checks that they match as you type; the action checks again. */
export function ResetPasswordForm({ token }: { token: string }) {
  const [state, action, pending] = useActionState(resetPassword, IDLE)
  const [mismatch, setMismatch] = useState(false)

  if (state.done) {
    const keys = state.done.apiKeysRevoked ?? 0
    return (
      <Notice tone="success">
        <p>
          <strong>Password changed.</strong> Every session of your account was signed out, in this browser too
          {keys === 1 ? ', and the API key it had made was revoked' : keys > 1 ? `, and the ${keys} API keys it had made were revoked` : ''}.{' '}
          <a href="/login">Log in with your new password</a>.
        </p>
      </Notice>
    )
  }
  const problem = linkProblemOf(state)
  if (problem) {
    return (
      <LinkRefused
        problem={problem}
        retry={
          <>
            Ask for a <a href="/reset-password">new reset link</a>.
          </>
        }
      />
    )
  }

  // Blocks the submission with the browser's own message, and shows ours next to the field.
  const check = (form: HTMLFormElement | null, show: boolean) => {
    const password = form?.elements.namedItem('password') as HTMLInputElement | null
    const confirm = form?.elements.namedItem('confirm') as HTMLInputElement | null
    if (!password || !confirm) return
    const differs = confirm.value !== '' && confirm.value !== password.value
    confirm.setCustomValidity(differs ? MISMATCH : '')
    if (show || !differs) setMismatch(differs)
  }

  return (
    <>
      <FormAlert state={state} />
      <form action={action} className="account-form">
        <input type="hidden" name="token" value={token} />
        <NewPasswordField
          id="reset-password"
          label="New password"
          state={state}
          onChange={(e) => check(e.currentTarget.form, mismatch)}
        />
        <Field
          id="reset-confirm"
          name="confirm"
          label="New password again"
          type="password"
          autoComplete="new-password"
          maxLength={200}
          state={state}
          clientError={mismatch ? MISMATCH : undefined}
          onChange={(e) => check(e.currentTarget.form, mismatch)}
          onBlur={(e) => check(e.currentTarget.form, true)}
        />
        <SubmitButton pending={pending} pendingText="Changing your password…">
          Change password
        </SubmitButton>
      </form>
    </>
  )
}
