'use client'

import { useId, useState } from 'react'
import { ApiError } from '../../lib/console-api'
import { Button } from '../../components/ui/button'
import { When } from '../console/when'
import { type Comment, useAddComment } from './review-api'

export function CommentList({ comments }: { comments: Comment[] }) {
  return (
    <ul className="flex flex-col gap-2">
      {comments.map((c) => (
        <li key={c.id} className="rounded-md border border-border bg-surface px-3 py-2">
          <p className="text-xs text-muted">
            <When iso={c.created_at} />
            {c.line !== null && c.path !== null ? ` · line ${c.line}` : ''}
          </p>
          <p className="whitespace-pre-wrap break-words text-sm">{c.body}</p>
        </li>
      ))}
    </ul>
  )
}

/**
 * A comment box for one place: a line of a file, or the submission as a whole. What was
 * typed stays when the save is refused, with the API's reason under the box.
 */
export function CommentForm({
  invitationId,
  path,
  line,
  label,
  onDone,
}: {
  invitationId: string
  path?: string
  line?: number
  label: string
  onDone?: () => void
}) {
  const id = useId()
  const [body, setBody] = useState('')
  const add = useAddComment(invitationId)
  const error = add.error instanceof ApiError ? (add.error.fieldMessage('body') ?? add.error.message) : add.error ? String(add.error) : null
  return (
    <form
      className="flex flex-col gap-2"
      onSubmit={(e) => {
        e.preventDefault()
        add.mutate(
          { path, line, body },
          {
            onSuccess: () => {
              setBody('')
              onDone?.()
            },
          },
        )
      }}
    >
      <label htmlFor={id} className="text-sm font-semibold">
        {label}
      </label>
      <textarea
        id={id}
        required
        rows={3}
        maxLength={20_000}
        value={body}
        onChange={(e) => setBody(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        className="w-full rounded-md border border-border bg-surface p-2 text-sm"
        // A box opened by clicking a line takes the focus, so typing can start at once.
        autoFocus={line !== undefined}
      />
      {error && (
        <p id={`${id}-error`} className="text-sm text-danger">
          {error}
        </p>
      )}
      <div className="flex gap-2">
        <Button type="submit" size="sm" disabled={add.isPending}>
          {add.isPending ? 'Saving…' : 'Save comment'}
        </Button>
        {onDone && (
          <Button variant="secondary" size="sm" onClick={onDone}>
            Cancel
          </Button>
        )}
      </div>
    </form>
  )
}
