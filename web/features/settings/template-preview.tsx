'use client'

import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { apiFetch } from '../../lib/console-api'
import { Alert } from '../../components/ui/alert'
import { EmailVersions } from '../console/email-versions'
import type { RenderedEmail, TemplateKind } from './api'

/** How long typing must pause before the preview asks the API again. */
const PAUSE_MS = 400

/** `value` once it has stayed the same for `ms`: a string, so an equal one never re-renders. */
function useSettled(value: string, ms: number): string {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms)
    return () => clearTimeout(timer)
  }, [value, ms])
  return settled
}

export interface PreviewDraft {
  kind: TemplateKind
  subject: string
  body: string
}

/**
 * The email a candidate would get from this draft, rendered by the API with example values
 * as it is typed. A part left empty is the one the organisation sends today, as the API does.
 */
export function TemplatePreview({ draft }: { draft: PreviewDraft }) {
  const request = useSettled(
    JSON.stringify({ kind: draft.kind, subject: draft.subject.trim() || undefined, body: draft.body.trim() ? draft.body : undefined }),
    PAUSE_MS,
  )
  const preview = useQuery({
    queryKey: ['email-template-preview', request],
    queryFn: ({ signal }) => apiFetch<RenderedEmail>('/api/email-templates/preview', { method: 'POST', body: JSON.parse(request), signal }),
    placeholderData: keepPreviousData,
  })
  return (
    <section aria-labelledby="template-preview-title" aria-busy={preview.isFetching} className="min-w-0">
      <h2 id="template-preview-title" className="text-sm font-semibold">
        Preview
      </h2>
      <p className="mt-1 text-xs text-muted">As a candidate would get it, with example values for the variables.</p>
      {preview.isError ? (
        <Alert tone="warning" className="mt-2" title="This draft cannot be rendered">
          <p>{preview.error.message}</p>
        </Alert>
      ) : preview.data ? (
        <div className="mt-2 rounded-md border border-border p-3">
          <p className="text-sm break-words">
            <span className="text-muted">Subject:</span> {preview.data.subject}
          </p>
          <EmailVersions html={preview.data.html} text={preview.data.text} name="the email" className="mt-2" />
        </div>
      ) : (
        <p role="status" className="mt-2 text-sm text-muted">
          Rendering the email…
        </p>
      )}
    </section>
  )
}
