'use client'

import { useId, useState } from 'react'
import { ApiError } from '../../lib/console-api'
import { Button } from '../../components/ui/button'
import { When } from '../console/when'
import { type Feedback, useSaveFeedback } from './review-api'

const RATINGS = [
  [1, 'Poor'],
  [2, 'Weak'],
  [3, 'Fair'],
  [4, 'Good'],
  [5, 'Excellent'],
] as const

/** The reviewers' feedback so far, newest first, and (for those who may) a new summary with its rating. */
export function FeedbackPanel({ invitationId, feedback, canReview }: { invitationId: string; feedback: Feedback[]; canReview: boolean }) {
  const id = useId()
  const [summary, setSummary] = useState('')
  const [rating, setRating] = useState<number | null>(null)
  const save = useSaveFeedback(invitationId)
  const error = save.error instanceof ApiError ? save.error : null
  const past = [...feedback].sort((a, b) => b.created_at.localeCompare(a.created_at))
  return (
    <div className="flex flex-col gap-4">
      {past.length === 0 ? (
        <p className="text-muted">No feedback yet.</p>
      ) : (
        <ul className="flex flex-col gap-2">
          {past.map((f) => (
            <li key={f.id} className="rounded-md border border-border bg-surface px-3 py-2">
              <p className="font-semibold">{f.rating === null ? 'No rating' : `Rated ${f.rating} of 5`}</p>
              {f.summary && <p className="whitespace-pre-wrap break-words text-sm">{f.summary}</p>}
              <p className="text-xs text-muted">
                <When iso={f.created_at} />
              </p>
            </li>
          ))}
        </ul>
      )}
      {canReview && (
        <form
          className="flex flex-col gap-3"
          onSubmit={(e) => {
            e.preventDefault()
            if (rating === null) return
            save.mutate({ rating, ...(summary.trim() ? { summary } : {}) }, { onSuccess: () => setSummary('') })
          }}
        >
          <fieldset className="flex flex-col gap-1" aria-describedby={error?.fieldMessage('rating') ? `${id}-rating-error` : undefined}>
            <legend className="text-sm font-semibold">Rating</legend>
            <div className="flex flex-wrap gap-2">
              {RATINGS.map(([value, word]) => (
                <label key={value} className="flex items-center gap-1.5 rounded-md border border-border bg-surface px-2 py-1 text-sm">
                  <input type="radio" name={`${id}-rating`} value={value} required checked={rating === value} onChange={() => setRating(value)} />
                  {value} – {word}
                </label>
              ))}
            </div>
            {error?.fieldMessage('rating') && (
              <p id={`${id}-rating-error`} className="text-sm text-danger">
                {error.fieldMessage('rating')}
              </p>
            )}
          </fieldset>
          <div className="flex flex-col gap-1">
            <label htmlFor={`${id}-summary`} className="text-sm font-semibold">
              Summary
            </label>
            <textarea
              id={`${id}-summary`}
              rows={4}
              maxLength={20_000}
              value={summary}
              onChange={(e) => setSummary(e.target.value)}
              aria-invalid={error?.fieldMessage('summary') ? true : undefined}
              aria-describedby={error?.fieldMessage('summary') ? `${id}-summary-error` : undefined}
              className="w-full rounded-md border border-border bg-surface p-2 text-sm"
            />
            {error?.fieldMessage('summary') && (
              <p id={`${id}-summary-error`} className="text-sm text-danger">
                {error.fieldMessage('summary')}
              </p>
            )}
          </div>
          {save.error && !error?.fieldMessage('rating') && !error?.fieldMessage('summary') && (
            <p role="alert" className="text-sm text-danger">
              {save.error.message}
            </p>
          )}
          {save.isSuccess && !save.isPending && (
            <p role="status" className="text-sm text-success">
              Feedback saved.
            </p>
          )}
          <div>
            <Button type="submit" disabled={save.isPending}>
              {save.isPending ? 'Saving…' : 'Save feedback'}
            </Button>
          </div>
        </form>
      )}
    </div>
  )
}
