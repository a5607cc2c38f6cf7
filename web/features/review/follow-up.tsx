'use client'

import { useId, useState } from 'react'
import { Button } from '../../components/ui/button'
import { useFollowUpPreview, useFollowUpTemplates, useSendFollowUp } from './review-api'

/**
 * Choose a follow-up template, read the email as the candidate will (their name and the
 * assessment filled in), then send it. It is queued, and shows in the mailbox once sent.
 */
export function FollowUpPanel({ invitationId, candidate, email, assessmentTitle }: { invitationId: string; candidate: string; email: string; assessmentTitle: string | undefined }) {
  const id = useId()
  const [templateId, setTemplateId] = useState('')
  const templates = useFollowUpTemplates()
  const preview = useFollowUpPreview(templateId, { candidate_name: candidate, ...(assessmentTitle ? { assessment_title: assessmentTitle } : {}) })
  const send = useSendFollowUp(invitationId)

  return (
    <div className="flex flex-col gap-3">
      <div className="flex flex-col gap-1">
        <label htmlFor={`${id}-template`} className="text-sm font-semibold">
          Template
        </label>
        <select
          id={`${id}-template`}
          value={templateId}
          onChange={(e) => {
            setTemplateId(e.target.value)
            send.reset()
          }}
          className="max-w-full rounded-md border border-border bg-surface p-1.5 text-sm"
        >
          <option value="">Your organisation’s default follow-up</option>
          {templates.data?.filter((t) => !t.is_default).map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
        {templates.isError && <p className="text-sm text-danger">The templates could not be loaded: {templates.error.message}</p>}
      </div>
      <section aria-labelledby={`${id}-preview`} className="flex flex-col gap-2 rounded-md border border-border bg-surface p-3">
        <h3 id={`${id}-preview`} className="text-sm font-semibold">
          The email {email} will get
        </h3>
        {preview.isPending ? (
          <p role="status" className="text-sm text-muted">
            Rendering the email…
          </p>
        ) : preview.isError ? (
          <p className="text-sm text-danger">The email could not be rendered: {preview.error.message}</p>
        ) : (
          <>
            <p className="text-sm">
              <span className="text-muted">Subject:</span> {preview.data.subject}
            </p>
            {/* The rendered email in a frame of its own, with scripts and everything else off. */}
            <iframe title="Follow-up email preview" sandbox="" srcDoc={preview.data.html} className="h-48 w-full rounded border border-border bg-white" />
            <p className="text-xs text-muted">Links and deadlines show example values here; the email sent carries the candidate’s own.</p>
          </>
        )}
      </section>
      {send.isSuccess ? (
        <p role="status" className="text-sm text-success">
          Follow-up queued for {email}. <a href="/mailbox">It shows in the mailbox</a> once sent.
        </p>
      ) : (
        <div className="flex flex-col gap-1">
          <div>
            <Button disabled={send.isPending || !preview.isSuccess} onClick={() => send.mutate(templateId)}>
              {send.isPending ? 'Sending…' : 'Send follow-up'}
            </Button>
          </div>
          {send.isError && (
            <p role="alert" className="text-sm text-danger">
              {send.error.message}
            </p>
          )}
        </div>
      )}
    </div>
  )
}
