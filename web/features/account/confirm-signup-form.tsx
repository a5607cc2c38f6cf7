'use client'

import { useActionState } from 'react'
import { confirmSignup } from './actions'
import { IDLE, linkProblemOf } from './action-state'
import { FormAlert, Notice, SubmitButton } from './fields'
import { LinkRefused, NextSteps, SignedInAs } from './outcomes'

/**
 * One button, never a GET: mail scanners open links to check them, and opening the link
 * must not create anything.
 */
export function ConfirmSignupForm({ token }: { token: string }) {
  const [state, action, pending] = useActionState(confirmSignup, IDLE)
  if (state.done) {
    return (
      <>
        <Notice tone="success">
          <p>
            <strong>Your organisation {state.done.session?.org} is ready.</strong> You are its owner.
          </p>
        </Notice>
        <SignedInAs session={state.done.session} />
        <NextSteps />
      </>
    )
  }
  const problem = linkProblemOf(state)
  if (problem) {
    return (
      <LinkRefused
        problem={problem}
        retry={
          problem === 'link_used' ? (
            <>
              If you confirmed it yourself, your organisation exists: <a href="/login">log in</a>.
            </>
          ) : (
            <>
              <a href="/signup">Sign up again</a> to get a new link.
            </>
          )
        }
      />
    )
  }
  return (
    <>
      <p className="lead">One step left: confirming creates your account and a new organisation, with you as its owner.</p>
      <FormAlert state={state} />
      <form action={action} className="account-form">
        <input type="hidden" name="token" value={token} />
        <SubmitButton pending={pending} pendingText="Creating your organisation…">
          Confirm and create my organisation
        </SubmitButton>
      </form>
    </>
  )
}
