'use client'

import { useMutation, useQueryClient } from '@tanstack/react-query'
import { CalendarClock, Copy, Eye, MoreHorizontal, Send, XCircle } from 'lucide-react'
import Link from 'next/link'
import { type FormEvent, useState } from 'react'
import { copyText } from '../../lib/clipboard'
import { ApiError, apiFetch } from '../../lib/console-api'
import { Alert } from '../../components/ui/alert'
import { Button } from '../../components/ui/button'
import { ConfirmDialog } from '../../components/ui/confirm-dialog'
import { Dialog, DialogClose, DialogContent } from '../../components/ui/dialog'
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuTrigger } from '../../components/ui/dropdown-menu'
import { Field } from '../../components/ui/field'
import { Input } from '../../components/ui/input'
import { Textarea } from '../../components/ui/textarea'
import { useToast } from '../../components/ui/toast'
import { formatWhen } from '../console/format'
import { canManage, canReview, type Role } from '../console/session'
import { type InvitationRow, invitationsKey } from './api'

const who = (row: InvitationRow) => row.candidate_name ?? row.candidate_email

/** The deadline that can still move: the start deadline before Start, the complete deadline while working. */
const extendable = (row: InvitationRow): 'start' | 'complete' | undefined =>
  row.status === 'sent' || row.status === 'accepted' ? 'start' : row.status === 'started' ? 'complete' : undefined

/** A datetime-local value (the viewer's time) for a moment. */
function localInput(date: Date): string {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60_000)
  return shifted.toISOString().slice(0, 16)
}

function ExtendDialog({ row, deadline, open, onOpenChange }: { row: InvitationRow; deadline: 'start' | 'complete'; open: boolean; onOpenChange: (open: boolean) => void }) {
  const queryClient = useQueryClient()
  const toast = useToast()
  const current = deadline === 'start' ? row.start_deadline : row.complete_deadline!
  const [until, setUntil] = useState(() => localInput(new Date(new Date(current).getTime() + 86_400_000)))
  const [reason, setReason] = useState('')
  const extend = useMutation({
    mutationFn: () =>
      apiFetch(`/api/invitations/${row.id}/extend`, {
        method: 'POST',
        body: { deadline, until: new Date(until).toISOString(), reason: reason.trim() },
      }),
    onSuccess: () => {
      toast(`Deadline extended for ${who(row)}`)
      onOpenChange(false)
      void queryClient.invalidateQueries({ queryKey: invitationsKey(row.assessment_id) })
    },
  })
  const error = extend.error instanceof ApiError ? extend.error : undefined
  const submit = (event: FormEvent) => {
    event.preventDefault()
    extend.mutate()
  }
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent
        title={deadline === 'start' ? 'Extend the start deadline' : 'Extend the complete deadline'}
        description={`${who(row)}: now ${formatWhen(current)}. The change and its reason are recorded in the audit log.`}
      >
        <form onSubmit={submit} className="space-y-3">
          <Field id={`extend-until-${row.id}`} label="New deadline" error={error?.fieldMessage('until')}>
            <Input type="datetime-local" required value={until} onChange={(e) => setUntil(e.target.value)} />
          </Field>
          <Field id={`extend-reason-${row.id}`} label="Reason" hint="Required; kept in the audit log." error={error?.fieldMessage('reason')}>
            <Textarea required maxLength={500} rows={3} value={reason} onChange={(e) => setReason(e.target.value)} />
          </Field>
          {error && !error.fieldMessage('until') && !error.fieldMessage('reason') && (
            <Alert tone="danger">
              <p>{error.message}</p>
            </Alert>
          )}
          <div className="flex justify-end gap-2">
            <DialogClose asChild>
              <Button variant="secondary">Cancel</Button>
            </DialogClose>
            <Button type="submit" disabled={extend.isPending || reason.trim() === ''}>
              {extend.isPending ? 'Extending…' : 'Extend'}
            </Button>
          </div>
        </form>
      </DialogContent>
    </Dialog>
  )
}

/** A row's actions, in a menu; only those the member's role allows and the invitation's state permits. */
export function RowActions({ row, role, startUrl }: { row: InvitationRow; role: Role; startUrl?: string }) {
  const toast = useToast()
  const queryClient = useQueryClient()
  const [dialog, setDialog] = useState<'extend' | 'revoke'>()
  const resend = useMutation({
    mutationFn: () => apiFetch(`/api/invitations/${row.id}/resend`, { method: 'POST' }),
    onSuccess: () => {
      toast(`Invitation sent again to ${row.candidate_email}`)
      void queryClient.invalidateQueries({ queryKey: invitationsKey(row.assessment_id) })
    },
    onError: (error) => toast(`Not sent: ${error.message}`, 'danger'),
  })
  const manage = canManage(role)
  const deadline = extendable(row)
  const live = row.status === 'sent' || row.status === 'accepted' || row.status === 'started'
  const reviewable = canReview(role) && (row.status === 'started' || row.status === 'submitted' || row.status === 'expired')
  const copy = async () => {
    if (await copyText(startUrl!)) toast('Start link copied')
    else toast('Could not copy: your browser refused the clipboard.', 'danger')
  }
  const items = [
    startUrl && (
      <DropdownMenuItem key="copy" onSelect={() => void copy()}>
        <Copy aria-hidden /> Copy start link
      </DropdownMenuItem>
    ),
    manage && (row.status === 'sent' || row.status === 'accepted') && (
      <DropdownMenuItem key="resend" onSelect={() => resend.mutate()} disabled={resend.isPending}>
        <Send aria-hidden /> Resend invitation
      </DropdownMenuItem>
    ),
    manage && deadline && (
      <DropdownMenuItem key="extend" onSelect={() => setDialog('extend')}>
        <CalendarClock aria-hidden /> Extend {deadline} deadline…
      </DropdownMenuItem>
    ),
    manage && live && (
      <DropdownMenuItem key="revoke" onSelect={() => setDialog('revoke')} className="text-danger">
        <XCircle aria-hidden /> Revoke…
      </DropdownMenuItem>
    ),
    reviewable && (
      <DropdownMenuItem key="review" asChild>
        <Link href={`/review/${row.id}`}>
          <Eye aria-hidden /> Open review
        </Link>
      </DropdownMenuItem>
    ),
  ].filter(Boolean)
  if (items.length === 0) return null
  return (
    <>
      <DropdownMenu>
        <DropdownMenuTrigger asChild>
          <Button variant="ghost" size="icon" aria-label={`Actions for ${who(row)}`}>
            <MoreHorizontal aria-hidden />
          </Button>
        </DropdownMenuTrigger>
        <DropdownMenuContent>{items}</DropdownMenuContent>
      </DropdownMenu>
      {deadline && dialog === 'extend' && <ExtendDialog row={row} deadline={deadline} open onOpenChange={(open) => !open && setDialog(undefined)} />}
      {dialog === 'revoke' && (
        <ConfirmDialog
          title="Revoke this invitation?"
          description={`${who(row)}'s start link stops working, and so does their git access.`}
          keep="Keep it"
          confirm="Revoke"
          busy="Revoking…"
          action={() => apiFetch(`/api/invitations/${row.id}/revoke`, { method: 'POST' })}
          onDone={() => {
            toast(`Invitation of ${who(row)} revoked`)
            void queryClient.invalidateQueries({ queryKey: invitationsKey(row.assessment_id) })
          }}
          onOpenChange={(open) => !open && setDialog(undefined)}
        />
      )}
    </>
  )
}
