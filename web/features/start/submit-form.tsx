'use client'

import { useActionState } from 'react'
import { ActionAlert } from './action-alert'
import { IDLE } from './action-state'
import { submitAssessment } from './actions'

/**
 * Submit with a confirmation that needs no JavaScript: a required checkbox the browser
 * enforces and the action checks again. Rendered for every started, unsubmitted
 * invitation (`open` only while it may be submitted), so that a refusal's message
 * survives the re-render that shows the invitation's new state.
 */
export function SubmitForm({ token, open }: { token: string; open: boolean }) {
  const [state, action, pending] = useActionState(submitAssessment, IDLE)
  const alert = state.error && <ActionAlert error={state.error} />
  if (!open) return alert
  return (
    <section aria-labelledby="submit-title" className="submit">
      <h2 id="submit-title">Submit your work</h2>
      <p>
        When you are done, push your last commits, then submit. We record the latest commit on <code>main</code> as your
        final answer and close the repository: you cannot push after submitting.
      </p>
      {alert}
      <form action={action}>
        <input type="hidden" name="token" value={token} />
        <p className="check">
          <input type="checkbox" id="submit-confirm" name="confirm" value="yes" required />
          <label htmlFor="submit-confirm">I have pushed everything I want reviewed</label>
        </p>
        <button type="submit" className="button" disabled={pending}>
          {pending && <span className="spinner" aria-hidden="true" />}
          {pending ? 'Submitting…' : 'Submit assessment'}
        </button>
      </form>
      <p className="visually-hidden" role="status">
        {pending ? 'Submitting…' : ''}
      </p>
    </section>
  )
}
