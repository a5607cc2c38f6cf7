'use client'

import { useActionState } from 'react'
import { ActionAlert } from './action-alert'
import { IDLE } from './action-state'
import { startAssessment } from './actions'

/**
 * A plain form around a Server Action: without JavaScript the browser posts it and gets
 * the page back; with it, React posts it and shows the pending state. Rendered for every
 * not-yet-started invitation, startable or not, so that a refusal's message survives the
 * re-render that shows the invitation's new state.
 */
export function StartForm({ token, startable, note }: { token: string; startable: boolean; note: string }) {
  const [state, action, pending] = useActionState(startAssessment, IDLE)
  const pendingText = 'Creating your repository…'
  return (
    <div className="start">
      {state.error && <ActionAlert error={state.error} />}
      {startable && (
        <form action={action}>
          <input type="hidden" name="token" value={token} />
          <button type="submit" className="button" disabled={pending} aria-describedby="start-note">
            {pending && <span className="spinner" aria-hidden="true" />}
            {pending ? pendingText : 'Start assessment'}
          </button>
          <p id="start-note" className="muted">
            {note}
          </p>
        </form>
      )}
      <p className="visually-hidden" role="status">
        {pending ? pendingText : ''}
      </p>
    </div>
  )
}
