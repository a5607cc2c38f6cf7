'use client'

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { ApiError, apiFetch } from '../../lib/console-api'
import { Alert } from '../../components/ui/alert'
import { Button } from '../../components/ui/button'
import { Card, CardDescription, CardHeader, CardTitle } from '../../components/ui/card'
import { ConfirmDialog } from '../../components/ui/confirm-dialog'
import { Field } from '../../components/ui/field'
import { Input } from '../../components/ui/input'
import { LoadingRows } from '../../components/ui/skeleton'
import { useToast } from '../../components/ui/toast'
import { type Role, useRole } from '../console/session'
import { ErrorState, PageHeader } from '../console/states'
import { AUDIT_KEY } from './audit-log'

/** The organisation's settings, as GET /api/org answers them. */
interface OrgSettings {
  id: string
  name: string
  retention_days: number
  created_at: string
}

/** What an erasure removed or anonymised (POST /api/candidates/erase). */
interface ErasureCounts {
  invitations: number
  repositories: number
  access_tokens: number
  comments: number
  feedback: number
  emails: number
}

const ORG_KEY = ['org'] as const
// The API's bounds (core's RETENTION_DAYS_MAX); it refuses anything else in its own words anyway.
const MIN_DAYS = 1
const MAX_DAYS = 36_500
const isOwner = (role: Role | undefined) => role === 'owner'

const useOrgSettings = () => useQuery({ queryKey: ORG_KEY, queryFn: ({ signal }) => apiFetch<OrgSettings>('/api/org', { signal }) })

function RetentionForm({ org }: { org: OrgSettings }) {
  const queryClient = useQueryClient()
  const toast = useToast()
  const [days, setDays] = useState(String(org.retention_days))
  const save = useMutation({
    mutationFn: (retentionDays: number) => apiFetch<OrgSettings>('/api/org', { method: 'PATCH', body: { retention_days: retentionDays } }),
    onSuccess: (saved) => {
      queryClient.setQueryData(ORG_KEY, saved)
      void queryClient.invalidateQueries({ queryKey: AUDIT_KEY })
      toast(`Candidate data is now kept ${saved.retention_days} days`)
    },
  })
  const fieldError = save.error instanceof ApiError ? save.error.fieldMessage('retention_days') : undefined
  const submit = (event: FormEvent) => {
    event.preventDefault()
    // A value the API will refuse (empty, a fraction) is still sent: its refusal names the field.
    save.mutate(days.trim() === '' ? Number.NaN : Number(days))
  }
  return (
    <form onSubmit={submit} className="space-y-3" aria-busy={save.isPending}>
      <Field
        id="retention-days"
        label="Keep candidate data for (days)"
        hint={`Counted from when an invitation ended: submitted, expired or revoked. ${MIN_DAYS} to ${MAX_DAYS}.`}
        error={fieldError}
      >
        <Input type="number" inputMode="numeric" required min={MIN_DAYS} max={MAX_DAYS} step={1} className="max-w-40" value={days} onChange={(e) => setDays(e.target.value)} />
      </Field>
      {save.isError && !fieldError && (
        <Alert tone="danger" title="The setting was not saved">
          <p>{save.error.message}</p>
        </Alert>
      )}
      <Button type="submit" disabled={save.isPending || days === String(org.retention_days)}>
        {save.isPending ? 'Saving…' : 'Save'}
      </Button>
    </form>
  )
}

function Retention() {
  const role = useRole()
  const org = useOrgSettings()
  return (
    <Card aria-labelledby="retention-title">
      <CardHeader>
        <div>
          <CardTitle id="retention-title">Retention</CardTitle>
          <CardDescription>
            Past this, a scheduled task erases a candidate&apos;s name and email (replaced by a pseudonym), their repository, review comments and
            written feedback, emails and access tokens. Statuses, times and ratings stay, without names, so the dashboard still adds up.
          </CardDescription>
        </div>
      </CardHeader>
      {org.isPending ? (
        <LoadingRows label="Loading the retention setting…" />
      ) : org.isError ? (
        <ErrorState error={org.error} retry={() => void org.refetch()} what="the retention setting" />
      ) : isOwner(role) ? (
        <RetentionForm key={org.data.retention_days} org={org.data} />
      ) : (
        <p className="text-sm">
          Candidate data is kept <strong>{org.data.retention_days} days</strong> after an invitation ended. Only owners change this.
        </p>
      )}
    </Card>
  )
}

/** Saves a JSON document the browser already holds as a file. */
function download(name: string, data: unknown) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }))
  const link = document.createElement('a')
  link.href = url
  link.download = name
  link.click()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

const countsInWords = (c: ErasureCounts) =>
  `${c.invitations} invitations, ${c.repositories} repositories, ${c.comments} comments, ${c.feedback} feedback texts, ${c.emails} emails, ${c.access_tokens} access tokens`

/** Owners answer a candidate's requests: a copy of their data (export) or its erasure. */
function CandidateRequests() {
  const queryClient = useQueryClient()
  const toast = useToast()
  const [email, setEmail] = useState('')
  const [erasing, setErasing] = useState<string>()
  const [erased, setErased] = useState<{ email: string; counts: ErasureCounts }>()
  const exportData = useMutation({
    mutationFn: (address: string) => apiFetch<unknown>(`/api/candidates/export?email=${encodeURIComponent(address)}`),
    onSuccess: (data, address) => download(`takehome-export-${address.replace(/[^a-z0-9.@_-]/gi, '_')}.json`, data),
  })
  const address = email.trim()
  const error = exportData.error
  const emailError = error instanceof ApiError && error.code === 'validation_failed' ? 'Enter an email address.' : undefined
  return (
    <Card aria-labelledby="requests-title">
      <CardHeader>
        <div>
          <CardTitle id="requests-title">A candidate&apos;s requests</CardTitle>
          <CardDescription>Export everything held about a candidate in this organisation, or erase it at once, by their email address.</CardDescription>
        </div>
      </CardHeader>
      <form
        className="space-y-3"
        onSubmit={(event) => {
          event.preventDefault()
          exportData.mutate(address)
        }}
      >
        <Field id="candidate-email" label="Candidate's email" error={emailError}>
          <Input type="email" required maxLength={254} autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        {exportData.isError && !emailError && (
          <Alert tone="danger" title="The export failed">
            <p>{error instanceof ApiError ? error.message : 'Something went wrong.'}</p>
          </Alert>
        )}
        <div className="flex flex-wrap gap-2">
          <Button type="submit" variant="secondary" disabled={exportData.isPending || address === ''}>
            {exportData.isPending ? 'Exporting…' : 'Export as JSON'}
          </Button>
          <Button type="button" variant="danger" disabled={address === ''} onClick={() => setErasing(address)}>
            Erase…
          </Button>
        </div>
      </form>
      {erased && (
        <Alert tone="success" title={`Erased ${erased.email}`}>
          <p>{countsInWords(erased.counts)}.</p>
        </Alert>
      )}
      {erasing && (
        <ConfirmDialog
          title={`Erase ${erasing}?`}
          description="Their invitations still running are revoked; then their name, email, repositories, comments, written feedback, emails and access tokens are erased in this organisation. This cannot be undone."
          keep="Keep"
          confirm="Erase"
          busy="Erasing…"
          action={async () => {
            const { erased: counts } = await apiFetch<{ erased: ErasureCounts }>('/api/candidates/erase', { method: 'POST', body: { email: erasing } })
            setErased({ email: erasing, counts })
          }}
          onDone={() => {
            toast(`${erasing} erased`)
            setEmail('')
            void queryClient.invalidateQueries()
          }}
          onOpenChange={(open) => !open && setErasing(undefined)}
        />
      )}
    </Card>
  )
}

/** Settings → Data retention: how long candidate data is kept; owners also answer export and erasure requests. */
export function AuditRetention() {
  const role = useRole()
  return (
    <>
      <PageHeader title="Data retention" description="Candidates' personal data is kept only as long as this organisation says." />
      <div className="space-y-5">
        <Retention />
        {isOwner(role) && <CandidateRequests />}
      </div>
    </>
  )
}
