'use server'

import { refresh } from 'next/cache'
import type { ActionState } from './action-state'
import { candidateApi, isPlausibleToken, type ApiOutcome } from './candidate-api'
import { toSentence } from './format'

// Anyone can call a Server Action, so each one authenticates itself: the start link's
// token, sent back from the page in a hidden field, is the candidate's only credential,
// and the API checks it. It never goes into a log, a URL other than the page's own, or
// an error: only a status and code leave here.

type Act = 'start' | 'submit'

const FAILED: Record<Act, string> = {
  start: 'The assessment could not be started',
  submit: 'Your work could not be submitted',
}

const NOT_FOUND = { kind: 'error', status: 404, code: 'invitation_not_found', message: 'this invitation link is not valid' } as const

/** The API's own message for a refusal it explains (409 and the like); our words otherwise. */
function failure(outcome: Exclude<ApiOutcome, { kind: 'ok' }>, act: Act): ActionState {
  switch (outcome.kind) {
    case 'unreachable':
      return {
        error: {
          code: 'unavailable',
          title: 'We could not reach the service',
          message: 'Please try again in a minute: trying again is safe.',
        },
      }
    case 'rate_limited':
      return {
        error: {
          code: 'rate_limited',
          title: 'Too many attempts',
          message: `Please wait ${outcome.retryAfterSeconds ? `${outcome.retryAfterSeconds} seconds` : 'a minute'}, then try again.`,
        },
      }
    case 'error':
      if (outcome.status < 500 && outcome.message) {
        return { error: { code: outcome.code, title: FAILED[act], message: toSentence(outcome.message) } }
      }
      console.error(`start page: ${act}: API answered ${outcome.status} (${outcome.code})`)
      return {
        error: {
          code: outcome.code,
          title: FAILED[act],
          message: 'Something went wrong on our side. Please try again in a minute: trying again is safe.',
        },
      }
  }
}

/**
 * Success and refusals (a deadline passed, the invitation was withdrawn) both change what
 * the page should say, so it is rendered again; a failure of ours or of the network
 * changed nothing we know of, and the page stays as it is, ready for another try.
 */
const changedState = (outcome: ApiOutcome) => outcome.kind === 'ok' || (outcome.kind === 'error' && outcome.status < 500)

/** Start: the API creates the candidate's repository; the page then shows how to clone it. */
export async function startAssessment(_previous: ActionState, form: FormData): Promise<ActionState> {
  const token = form.get('token')
  if (!isPlausibleToken(token)) return failure(NOT_FOUND, 'start')
  const outcome = await candidateApi('POST', 'start', token)
  if (changedState(outcome)) refresh()
  return outcome.kind === 'ok' ? { error: null } : failure(outcome, 'start')
}

/** Submit: the API records main's last commit as final and closes the repository. */
export async function submitAssessment(_previous: ActionState, form: FormData): Promise<ActionState> {
  const token = form.get('token')
  if (!isPlausibleToken(token)) return failure(NOT_FOUND, 'submit')
  if (form.get('confirm') !== 'yes') {
    return {
      error: {
        code: 'confirmation_required',
        title: 'Please confirm first',
        message: 'Tick "I have pushed everything I want reviewed", then submit again.',
      },
    }
  }
  const outcome = await candidateApi('POST', 'submit', token)
  if (changedState(outcome)) refresh()
  return outcome.kind === 'ok' ? { error: null } : failure(outcome, 'submit')
}
