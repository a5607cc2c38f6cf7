'use client'

import { useMutation, useQueryClient } from '@tanstack/react-query'
import { type ChangeEvent, type FormEvent, useState } from 'react'
import { ApiError, apiFetch } from '../../lib/console-api'
import { Alert } from '../../components/ui/alert'
import { Button } from '../../components/ui/button'
import { Card, CardDescription, CardHeader, CardTitle } from '../../components/ui/card'
import { Input } from '../../components/ui/input'
import { Label } from '../../components/ui/label'
import { Textarea } from '../../components/ui/textarea'
import { useToast } from '../../components/ui/toast'
import { type CreatedInvitation, invitationsKey } from './api'
import { type BadRow, parseCandidates } from './parse-candidates'

// A CSV of a few hundred candidates is a few tens of kilobytes: anything far larger is not one.
const MAX_CSV_BYTES = 1_000_000

/** Rows the API refused (its details name `body.candidates.<n>.<field>`), as the lines they came from. */
function refusedRows(error: ApiError, sent: Array<{ line: number; text: string }>): BadRow[] {
  if (!Array.isArray(error.details)) return []
  return (error.details as Array<{ path?: unknown; message?: unknown }>).flatMap((issue) => {
    const match = typeof issue.path === 'string' ? /^body\.candidates\.(\d+)\.(\w+)/.exec(issue.path) : null
    const row = match ? sent[Number(match[1])] : undefined
    return row ? [{ line: row.line, text: row.text, message: `${match![2]} ${String(issue.message)}` }] : []
  })
}

/**
 * Invite in bulk: paste emails or `name,email` lines, or load a CSV into the box. The good
 * rows are sent; the bad ones stay in the box, each reported by line, to fix and send again.
 */
export function InviteForm({ assessmentId, onInvited }: { assessmentId: string; onInvited: (created: CreatedInvitation[]) => void }) {
  const queryClient = useQueryClient()
  const toast = useToast()
  const [text, setText] = useState('')
  const [bad, setBad] = useState<BadRow[]>([])
  const [fileError, setFileError] = useState<string>()
  const invite = useMutation({
    mutationFn: (candidates: Array<{ email: string; name?: string }>) =>
      apiFetch<{ invitations: CreatedInvitation[] }>('/api/invitations', {
        method: 'POST',
        body: { assessment_id: assessmentId, candidates },
      }),
  })

  const loadFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0]
    event.target.value = ''
    setFileError(undefined)
    if (!file) return
    if (file.size > MAX_CSV_BYTES) return setFileError(`${file.name} is larger than 1 MB: that is not a list of candidates.`)
    const content = await file.text()
    setText((current) => [current.trim(), content.trim()].filter(Boolean).join('\n'))
  }

  const submit = (event: FormEvent) => {
    event.preventDefault()
    const parsed = parseCandidates(text)
    if (parsed.candidates.length === 0) {
      setBad(parsed.bad.length ? parsed.bad : [{ line: 1, text: '', message: 'there is no candidate to invite' }])
      return
    }
    invite.mutate(
      parsed.candidates.map(({ email, name }) => ({ email, ...(name ? { name } : {}) })),
      {
        onSuccess: ({ invitations }) => {
          setBad(parsed.bad)
          setText(parsed.bad.map((b) => b.text).join('\n'))
          toast(`${invitations.length} ${invitations.length === 1 ? 'candidate' : 'candidates'} invited`)
          onInvited(invitations)
          void queryClient.invalidateQueries({ queryKey: invitationsKey(assessmentId) })
          void queryClient.invalidateQueries({ queryKey: ['dashboard'] })
        },
        onError: (error) => setBad([...parsed.bad, ...(error instanceof ApiError ? refusedRows(error, parsed.candidates) : [])]),
      },
    )
  }

  return (
    <Card aria-labelledby="invite-title">
      <CardHeader>
        <div>
          <CardTitle id="invite-title">Invite candidates</CardTitle>
          <CardDescription>Each gets an email with their own start link.</CardDescription>
        </div>
      </CardHeader>
      <form onSubmit={submit} className="space-y-3">
        <div className="space-y-1.5">
          <Label htmlFor="invite-list">Candidates</Label>
          <p id="invite-list-hint" className="text-xs text-muted">
            One per line: an email, or a name and an email separated by a comma.
          </p>
          <Textarea
            id="invite-list"
            rows={5}
            maxLength={200_000}
            value={text}
            onChange={(e) => setText(e.target.value)}
            aria-describedby={bad.length ? 'invite-list-hint invite-bad' : 'invite-list-hint'}
            aria-invalid={bad.length ? true : undefined}
            placeholder={'ada@example.com\nGrace Hopper, grace@example.com'}
            className="font-mono text-xs"
          />
        </div>
        {bad.length > 0 && (
          <div id="invite-bad" role="alert" className="rounded-lg bg-danger-soft px-4 py-3 text-sm text-danger">
            <p className="font-semibold">
              {bad.length === 1 ? 'One line was not sent' : `${bad.length} lines were not sent`}: fix {bad.length === 1 ? 'it' : 'them'} in
              the box and send again.
            </p>
            <ul className="mt-1 list-disc pl-5">
              {bad.map((b) => (
                <li key={`${b.line}-${b.message}`}>
                  {b.text ? (
                    <>
                      Line {b.line} <code className="break-all">{b.text}</code>: {b.message}
                    </>
                  ) : (
                    b.message
                  )}
                </li>
              ))}
            </ul>
          </div>
        )}
        {invite.isError && !(invite.error instanceof ApiError && refusedRows(invite.error, parseCandidates(text).candidates).length > 0) && (
          <Alert tone="danger" title="Nobody was invited">
            <p>{invite.error.message}</p>
          </Alert>
        )}
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" disabled={invite.isPending || text.trim() === ''}>
            {invite.isPending ? 'Inviting…' : 'Send invitations'}
          </Button>
          <div>
            <Label htmlFor="invite-csv" className="sr-only">
              Load a CSV file
            </Label>
            <Input id="invite-csv" type="file" accept=".csv,text/csv,text/plain" onChange={(e) => void loadFile(e)} className="h-auto py-1 text-xs" />
          </div>
        </div>
        {fileError && (
          <p role="alert" className="text-sm text-danger">
            {fileError}
          </p>
        )}
      </form>
    </Card>
  )
}
