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
import { type EmailTemplate, TEMPLATE_KINDS, type TemplateKind, TEMPLATES_KEY, templateKey } from './api'
import { TEMPLATE_VARIABLES } from './template-variables'
import { ConfirmDialog } from '../../components/ui/confirm-dialog'
import { TemplatePreview } from './template-preview'

interface Draft {
  kind: TemplateKind
  name: string
  subject: string
  body: string
  is_default: boolean
}
type FieldName = keyof Draft
const FIELDS: FieldName[] = ['kind', 'name', 'subject', 'body', 'is_default']

const draftOf = (t: EmailTemplate | undefined): Draft => ({
  kind: t?.kind ?? 'invite',
  name: t?.name ?? '',
  subject: t?.subject ?? '',
  body: t?.body ?? '',
  is_default: t?.is_default ?? false,
})

const VARIABLES = TEMPLATE_VARIABLES.map((v) => `{${v}}`).join(', ')

/**
 * The API's refusal, field by field: its validation issues, and the template rules the
 * service checks (a duplicate name, an invite without its start link, a placeholder it does
 * not know, under whichever of the sent subject and body holds it).
 */
function fieldErrors(error: unknown, sent: Draft | undefined): Partial<Record<FieldName, string>> {
  if (!(error instanceof ApiError)) return {}
  const found: Partial<Record<FieldName, string>> = {}
  for (const name of FIELDS) {
    const message = error.fieldMessage(name)
    if (message) found[name] = message
  }
  if (error.code === 'duplicate_template_name') found.name = error.message
  if (error.code === 'missing_start_link') found.body = error.message
  if (error.code === 'unknown_template_variable' && sent) {
    const unknown = (error.details as { unknown?: unknown } | undefined)?.unknown
    const placeholders = Array.isArray(unknown) ? unknown.filter((u): u is string => typeof u === 'string') : []
    for (const name of ['subject', 'body'] as const) {
      if (placeholders.some((p) => sent[name].includes(p))) found[name] = error.message
    }
  }
  return found
}

/**
 * Create (no `template`) or edit an email template beside a live preview of the email it
 * sends. What was typed stays after a refusal. `readOnly` shows it to a role that may not
 * change it.
 */
export function TemplateForm({ template, readOnly = false }: { template?: EmailTemplate; readOnly?: boolean }) {
  const router = useRouter()
  const toast = useToast()
  const queryClient = useQueryClient()
  const [draft, setDraft] = useState<Draft>(() => draftOf(template))
  const [confirmDelete, setConfirmDelete] = useState(false)
  const set = <K extends FieldName>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }))

  const save = useMutation({
    mutationFn: (body: Draft) =>
      template
        ? apiFetch<EmailTemplate>(`/api/email-templates/${template.id}`, { method: 'PATCH', body })
        : apiFetch<EmailTemplate>('/api/email-templates', { method: 'POST', body }),
    onSuccess: (saved) => {
      queryClient.setQueryData(templateKey(saved.id), saved)
      void queryClient.invalidateQueries({ queryKey: TEMPLATES_KEY })
      toast(template ? 'Template saved' : 'Template created')
      router.push('/settings/templates')
    },
  })
  const errors = fieldErrors(save.error, save.variables)
  const elsewhere = save.isError && Object.keys(errors).length === 0

  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (!readOnly) save.mutate(draft)
  }

  return (
    <div className="grid gap-5 lg:grid-cols-2">
      <form onSubmit={submit} className="min-w-0 space-y-4" aria-label={template ? `Template ${template.name}` : 'New template'}>
        {save.isError && (
          <Alert tone="danger" title={template ? 'The template was not saved' : 'The template was not created'}>
            <p>{elsewhere ? save.error.message : 'Check the fields marked below.'}</p>
          </Alert>
        )}
        <Card className="space-y-4">
          <div className="grid gap-4 sm:grid-cols-2">
            <Field id="template-kind" label="Kind" hint="Which email it is." error={errors.kind}>
              <select
                className={cn(fieldClasses, 'h-9')}
                value={draft.kind}
                onChange={(e) => set('kind', e.target.value as TemplateKind)}
                disabled={readOnly}
              >
                {TEMPLATE_KINDS.map((k) => (
                  <option key={k.value} value={k.value}>
                    {k.label}
                  </option>
                ))}
              </select>
            </Field>
            <Field id="template-name" label="Name" hint="Yours to tell templates apart." error={errors.name}>
              <Input required maxLength={100} value={draft.name} onChange={(e) => set('name', e.target.value)} readOnly={readOnly} />
            </Field>
          </div>
          <Field id="template-subject" label="Subject" hint={`May use ${VARIABLES}.`} error={errors.subject}>
            <Input required maxLength={300} value={draft.subject} onChange={(e) => set('subject', e.target.value)} readOnly={readOnly} />
          </Field>
          <Field
            id="template-body"
            label="Body"
            hint="Markdown; may use the same variables. An invitation must hold {start_link}."
            error={errors.body}
          >
            <Textarea
              required
              maxLength={20_000}
              rows={12}
              className="font-mono text-xs"
              value={draft.body}
              onChange={(e) => set('body', e.target.value)}
              readOnly={readOnly}
            />
          </Field>
          <div className="space-y-1">
            <div className="flex items-start gap-2">
              <input
                type="checkbox"
                id="template-default"
                className="mt-1 size-4"
                checked={draft.is_default}
                onChange={(e) => set('is_default', e.target.checked)}
                disabled={readOnly}
                aria-describedby={errors.is_default ? 'template-default-hint template-default-error' : 'template-default-hint'}
                aria-invalid={errors.is_default ? true : undefined}
              />
              <label htmlFor="template-default" className="text-sm font-semibold">
                The default of its kind
              </label>
            </div>
            <p id="template-default-hint" className="text-xs text-muted">
              Sent when no other template is chosen; it replaces the current default. Without one, Takehome&apos;s own text is sent.
            </p>
            {errors.is_default && (
              <p id="template-default-error" className="text-sm text-danger">
                {errors.is_default}
              </p>
            )}
          </div>
        </Card>
        {!readOnly && (
          <div className="flex flex-wrap gap-2">
            <Button type="submit" disabled={save.isPending}>
              {save.isPending ? 'Saving…' : template ? 'Save changes' : 'Create template'}
            </Button>
            <Button variant="secondary" asChild>
              <Link href="/settings/templates">Cancel</Link>
            </Button>
            {template && (
              <Button variant="ghost" className="text-danger sm:ml-auto" onClick={() => setConfirmDelete(true)}>
                Delete template…
              </Button>
            )}
          </div>
        )}
      </form>
      <TemplatePreview draft={draft} />
      {template && confirmDelete && (
        <ConfirmDialog
          title="Delete this template?"
          description={
            template.is_default
              ? `“${template.name}” is the default: Takehome's own text is sent in its place until you choose another.`
              : `“${template.name}” is deleted for good.`
          }
          confirm="Delete"
          busy="Deleting…"
          action={() => apiFetch(`/api/email-templates/${template.id}`, { method: 'DELETE' })}
          onDone={() => {
            // Not refetched here: this page's own template is gone, and the list refetches as it opens.
            void queryClient.invalidateQueries({ queryKey: TEMPLATES_KEY, refetchType: 'none' })
            toast(`Template “${template.name}” deleted`)
            router.push('/settings/templates')
          }}
          onOpenChange={setConfirmDelete}
        />
      )}
    </div>
  )
}
