'use client'

import { useInfiniteQuery } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { ApiError, apiFetch } from '../../lib/console-api'
import { Alert } from '../../components/ui/alert'
import { Button } from '../../components/ui/button'
import { Card, CardDescription, CardHeader, CardTitle } from '../../components/ui/card'
import { Field } from '../../components/ui/field'
import { Input } from '../../components/ui/input'
import { LoadingRows } from '../../components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '../../components/ui/table'
import { formatWhen } from '../console/format'
import { canManage, useRole } from '../console/session'
import { EmptyState, ErrorState, PageHeader } from '../console/states'

/** An audit event as GET /api/audit answers it. */
export interface AuditEvent {
  id: string
  action: string
  actor: string
  target: string | null
  meta: Record<string, unknown>
  created_at: string
}

interface AuditPage {
  events: AuditEvent[]
  next_cursor: string | null
}

/** What the filter form holds: as typed, times in the browser's local time. */
interface Filters {
  action: string
  actor: string
  target: string
  since: string
  until: string
}

const NO_FILTERS: Filters = { action: '', actor: '', target: '', since: '', until: '' }
const PAGE_SIZE = 50
export const AUDIT_KEY = ['audit'] as const

/** A `datetime-local` value is the browser's local time; the API takes an instant. */
const instant = (local: string) => {
  const date = new Date(local)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}

function auditQuery(filters: Filters, cursor: string | null) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) })
  for (const name of ['action', 'actor', 'target'] as const) {
    const value = filters[name].trim()
    if (value) params.set(name, value)
  }
  for (const name of ['since', 'until'] as const) {
    const value = filters[name] && instant(filters[name])
    if (value) params.set(name, value)
  }
  if (cursor) params.set('cursor', cursor)
  return `/api/audit?${params.toString()}`
}

const useAuditLog = (filters: Filters, enabled: boolean) =>
  useInfiniteQuery({
    enabled,
    queryKey: [...AUDIT_KEY, filters],
    queryFn: ({ pageParam, signal }) => apiFetch<AuditPage>(auditQuery(filters, pageParam), { signal }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  })

/** The API's refusal of one query parameter (`validation_failed` lists `{ path: 'querystring.<name>' }`). */
function queryMessage(error: unknown, name: string): string | undefined {
  if (!(error instanceof ApiError) || !Array.isArray(error.details)) return undefined
  const issue = (error.details as Array<{ path?: unknown; message?: unknown }>).find((i) => i.path === `querystring.${name}`)
  return typeof issue?.message === 'string' ? issue.message : undefined
}

function FilterForm({ applied, onApply, error }: { applied: Filters; onApply: (filters: Filters) => void; error: unknown }) {
  const [draft, setDraft] = useState<Filters>(applied)
  const set = (name: keyof Filters) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [name]: e.target.value }))
  const submit = (event: FormEvent) => {
    event.preventDefault()
    onApply(draft)
  }
  const filtered = Object.values(applied).some((v) => v !== '')
  return (
    <Card aria-labelledby="audit-filters-title">
      <CardHeader>
        <div>
          <CardTitle id="audit-filters-title">Filter</CardTitle>
          <CardDescription>Every field is optional; times are in your local time.</CardDescription>
        </div>
      </CardHeader>
      <form onSubmit={submit} className="space-y-3" role="search" aria-label="Filter the audit log">
        <div className="grid gap-3 sm:grid-cols-3">
          <Field id="audit-action" label="Action" hint="e.g. invitation.revoked, or invitation.* for all" error={queryMessage(error, 'action')}>
            <Input autoComplete="off" maxLength={100} value={draft.action} onChange={set('action')} />
          </Field>
          <Field id="audit-actor" label="Actor" hint="e.g. user:<id>, api_key:<id>, system" error={queryMessage(error, 'actor')}>
            <Input autoComplete="off" maxLength={200} value={draft.actor} onChange={set('actor')} />
          </Field>
          <Field id="audit-target" label="Target" hint="The id of what was acted on" error={queryMessage(error, 'target')}>
            <Input autoComplete="off" maxLength={200} value={draft.target} onChange={set('target')} />
          </Field>
          <Field id="audit-since" label="From" error={queryMessage(error, 'since')}>
            <Input type="datetime-local" value={draft.since} onChange={set('since')} />
          </Field>
          <Field id="audit-until" label="Until" error={queryMessage(error, 'until')}>
            <Input type="datetime-local" value={draft.until} onChange={set('until')} />
          </Field>
        </div>
        <div className="flex flex-wrap gap-2">
          <Button type="submit">Apply filters</Button>
          {filtered && (
            <Button
              type="button"
              variant="secondary"
              onClick={() => {
                setDraft(NO_FILTERS)
                onApply(NO_FILTERS)
              }}
            >
              Clear filters
            </Button>
          )}
        </div>
      </form>
    </Card>
  )
}

/** The event's details, as the API recorded them; ids stay whole so they can be pasted into a filter. */
function Details({ meta }: { meta: Record<string, unknown> }) {
  const entries = Object.entries(meta)
  if (entries.length === 0) return <span className="text-muted">—</span>
  return (
    <dl className="space-y-0.5 text-xs">
      {entries.map(([key, value]) => (
        <div key={key} className="flex flex-wrap gap-x-1">
          <dt className="font-semibold">{key}:</dt>
          <dd className="font-mono break-all">{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
        </div>
      ))}
    </dl>
  )
}

function EventList({ filters, log }: { filters: Filters; log: ReturnType<typeof useAuditLog> }) {
  if (log.isPending) return <LoadingRows label="Loading the audit log…" />
  // A failed "older events" keeps the pages already shown (the query holds both the error and its data).
  if (!log.data) return <ErrorState error={log.error} retry={() => void log.refetch()} what="the audit log" />
  const events = log.data.pages.flatMap((p) => p.events)
  if (events.length === 0) {
    return <EmptyState title="No events">{Object.values(filters).some((v) => v !== '') ? 'Nothing matches these filters.' : 'Nothing has been recorded yet.'}</EmptyState>
  }
  return (
    <Card aria-labelledby="audit-events-title">
      <CardHeader>
        <CardTitle id="audit-events-title">Events</CardTitle>
      </CardHeader>
      <Table aria-label="Audit events">
        <TableHead>
          <TableRow>
            <TableHeader>When</TableHeader>
            <TableHeader>Action</TableHeader>
            <TableHeader>Actor</TableHeader>
            <TableHeader>Target</TableHeader>
            <TableHeader>Details</TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {events.map((e) => (
            <TableRow key={e.id}>
              <TableCell className="whitespace-nowrap">
                <time dateTime={e.created_at}>{formatWhen(e.created_at)}</time>
              </TableCell>
              <TableCell>
                <code className="break-all">{e.action}</code>
              </TableCell>
              <TableCell>
                <code className="break-all">{e.actor}</code>
              </TableCell>
              <TableCell>{e.target ? <code className="break-all">{e.target}</code> : <span className="text-muted">—</span>}</TableCell>
              <TableCell>
                <Details meta={e.meta} />
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <div className="mt-3 flex flex-wrap items-center gap-3">
        <p className="text-sm text-muted" aria-live="polite">
          {events.length} {events.length === 1 ? 'event' : 'events'} shown{log.hasNextPage ? '; older ones follow' : ''}.
        </p>
        {log.hasNextPage && (
          <Button variant="secondary" size="sm" disabled={log.isFetchingNextPage} onClick={() => void log.fetchNextPage()}>
            {log.isFetchingNextPage ? 'Loading…' : 'Load older events'}
          </Button>
        )}
      </div>
      {log.isFetchNextPageError && (
        <Alert tone="danger" title="Could not load older events">
          <p>{log.error instanceof ApiError ? log.error.message : 'Something went wrong.'}</p>
        </Alert>
      )}
    </Card>
  )
}

/** Settings → Audit log: what was done in the organisation, by whom, newest first; read only. */
export function AuditLog() {
  const role = useRole()
  const [filters, setFilters] = useState<Filters>(NO_FILTERS)
  const log = useAuditLog(filters, canManage(role))
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Sensitive actions in this organisation: invitations, candidate access, reviews, members, API keys, erasure. Events cannot be changed or deleted."
      />
      {canManage(role) ? (
        <div className="space-y-5">
          {/* A refused filter (a malformed action) is shown beside its field as well as in place of the list. */}
          <FilterForm applied={filters} onApply={setFilters} error={log.error} />
          <EventList filters={filters} log={log} />
        </div>
      ) : (
        <Alert tone="info" title="Only owners and admins read the audit log">
          <p>Ask one of them if you need to know who did what.</p>
        </Alert>
      )}
    </>
  )
}
