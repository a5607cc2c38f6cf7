'use client'

import { useMutation, useQueryClient } from '@tanstack/react-query'
import Link from 'next/link'
import { useRouter } from 'next/navigation'
import { type FormEvent, useState } from 'react'
import { cn } from '../../lib/cn'
import { ApiError, apiFetch } from '../../lib/console-api'
import { Alert } from '../../components/ui/alert'
import { Button } from '../../components/ui/button'
import { Card } from '../../components/ui/card'
import { Field } from '../../components/ui/field'
import { fieldClasses, Input } from '../../components/ui/input'
import { Textarea } from '../../components/ui/textarea'
import { useToast } from '../../components/ui/toast'
import { shortSha } from '../console/format'
import { useSeeds } from '../seeds/seeds'
import { ASSESSMENTS_KEY, type Assessment } from './api'
import { renderMarkdown } from './markdown'
import { DurationField } from './duration-field'
import { type DurationInput, fromIso, toIso } from './duration'

interface Draft {
  seed_id: string
  title: string
  description: string
  instructions: string
  candidate_email_subject: string
  candidate_email_body: string
  time_to_start: DurationInput
  time_to_complete: DurationInput
}

const draftOf = (a: Assessment | undefined): Draft => ({
  seed_id: a?.seed_id ?? '',
  title: a?.title ?? '',
  description: a?.description ?? '',
  instructions: a?.instructions ?? '',
  candidate_email_subject: a?.candidate_email_subject ?? '',
  candidate_email_body: a?.candidate_email_body ?? '',
  time_to_start: a ? fromIso(a.time_to_start) : { amount: '7', unit: 'days' },
  time_to_complete: a ? fromIso(a.time_to_complete) : { amount: '48', unit: 'hours' },
})

/** The draft as the API takes it: empty optional texts are cleared (null), not sent as "". */
const bodyOf = (d: Draft) => ({
  seed_id: d.seed_id,
  title: d.title.trim(),
  description: d.description.trim() || null,
  instructions: d.instructions || null,
  candidate_email_subject: d.candidate_email_subject.trim() || null,
  candidate_email_body: d.candidate_email_body || null,
  time_to_start: toIso(d.time_to_start),
  time_to_complete: toIso(d.time_to_complete),
})

/** Create (no `assessment`) or edit an assessment. What was typed stays after a refusal. */
export function AssessmentForm({ assessment }: { assessment?: Assessment }) {
  const router = useRouter()
  const toast = useToast()
  const queryClient = useQueryClient()
  const seeds = useSeeds()
  const [draft, setDraft] = useState<Draft>(() => draftOf(assessment))
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }))

  const save = useMutation({
    mutationFn: (body: ReturnType<typeof bodyOf>) =>
      assessment
        ? apiFetch<Assessment>(`/api/assessments/${assessment.id}`, { method: 'PATCH', body })
        : apiFetch<Assessment>('/api/assessments', { method: 'POST', body }),
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: ASSESSMENTS_KEY })
      toast(assessment ? 'Assessment saved' : 'Assessment created')
      router.push(`/assessments/${saved.id}`)
    },
  })
  const error = save.error instanceof ApiError ? save.error : undefined
  const fieldError = (name: string) => error?.fieldMessage(name)
  const fields = ['seed_id', 'title', 'description', 'instructions', 'candidate_email_subject', 'candidate_email_body', 'time_to_start', 'time_to_complete']
  const elsewhere = save.isError && !fields.some((f) => fieldError(f))

  const submit = (event: FormEvent) => {
    event.preventDefault()
    save.mutate(bodyOf(draft))
  }
  const preview = renderMarkdown(draft.instructions)

  return (
    <form onSubmit={submit} className="space-y-5">
      {save.isError && (
        <Alert tone="danger" title={assessment ? 'The assessment was not saved' : 'The assessment was not created'}>
          <p>{elsewhere ? save.error.message : 'Check the fields marked below.'}</p>
        </Alert>
      )}
      <Card className="space-y-4">
        <Field id="assessment-seed" label="Seed" hint="The repository each candidate gets a copy of." error={fieldError('seed_id')}>
          <select
            required
            className={cn(fieldClasses, 'h-9')}
            value={draft.seed_id}
            onChange={(e) => set('seed_id', e.target.value)}
            disabled={seeds.isPending}
          >
            <option value="">{seeds.isPending ? 'Loading seeds…' : 'Choose a seed'}</option>
            {seeds.data?.seeds.map((s) => (
              <option key={s.id} value={s.id}>
                {s.source_url} ({shortSha(s.latest_main_sha)})
              </option>
            ))}
          </select>
        </Field>
        {seeds.data?.seeds.length === 0 && (
          <p className="text-sm text-muted">
            No seed yet: <Link href="/seeds">add one</Link> first.
          </p>
        )}
        <Field id="assessment-title" label="Title" error={fieldError('title')}>
          <Input required maxLength={200} value={draft.title} onChange={(e) => set('title', e.target.value)} />
        </Field>
        <Field id="assessment-description" label="Description" hint="One or two sentences, shown above the instructions." error={fieldError('description')}>
          <Textarea maxLength={5000} rows={2} className="min-h-16" value={draft.description} onChange={(e) => set('description', e.target.value)} />
        </Field>
        <div className="grid gap-4 sm:grid-cols-2">
          <DurationField
            id="assessment-time-to-start"
            label="Time to start"
            hint="How long a candidate has to press Start after being invited."
            value={draft.time_to_start}
            onChange={(v) => set('time_to_start', v)}
            error={fieldError('time_to_start')}
          />
          <DurationField
            id="assessment-time-to-complete"
            label="Time to complete"
            hint="How long they have from Start to submit."
            value={draft.time_to_complete}
            onChange={(v) => set('time_to_complete', v)}
            error={fieldError('time_to_complete')}
          />
        </div>
      </Card>

      <Card className="space-y-3">
        <div className="grid gap-4 lg:grid-cols-2">
          <Field id="assessment-instructions" label="Instructions" hint="Markdown. Candidates see them on their start page." error={fieldError('instructions')}>
            <Textarea
              maxLength={100_000}
              rows={14}
              className="font-mono text-xs"
              value={draft.instructions}
              onChange={(e) => set('instructions', e.target.value)}
            />
          </Field>
          <section aria-labelledby="instructions-preview-title" className="min-w-0">
            <h2 id="instructions-preview-title" className="text-sm font-semibold">
              Preview
            </h2>
            {preview ? (
              <div
                className="prose mt-1.5 max-h-96 overflow-auto rounded-md border border-border p-3 text-sm"
                // markdown-it with raw HTML off escapes whatever was typed: this is its output only.
                dangerouslySetInnerHTML={{ __html: preview }}
              />
            ) : (
              <p className="mt-1.5 text-sm text-muted">The instructions appear here as candidates will see them.</p>
            )}
          </section>
        </div>
      </Card>

      <Card className="space-y-4">
        <h2 className="text-base font-semibold">Invitation email</h2>
        <p className="text-sm text-muted">Leave these empty to send your organisation&apos;s invitation template.</p>
        <Field id="assessment-email-subject" label="Subject" error={fieldError('candidate_email_subject')}>
          <Input maxLength={200} value={draft.candidate_email_subject} onChange={(e) => set('candidate_email_subject', e.target.value)} />
        </Field>
        <Field id="assessment-email-body" label="Body" error={fieldError('candidate_email_body')}>
          <Textarea maxLength={20_000} rows={6} value={draft.candidate_email_body} onChange={(e) => set('candidate_email_body', e.target.value)} />
        </Field>
      </Card>

      <div className="flex flex-wrap gap-2">
        <Button type="submit" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : assessment ? 'Save changes' : 'Create assessment'}
        </Button>
        <Button variant="secondary" asChild>
          <Link href={assessment ? `/assessments/${assessment.id}` : '/assessments'}>Cancel</Link>
        </Button>
      </div>
    </form>
  )
}
