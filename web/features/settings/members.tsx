'use client'

import { useMutation, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { cn } from '../../lib/cn'
import { ApiError, apiFetch } from '../../lib/console-api'
import { Alert } from '../../components/ui/alert'
import { Badge } from '../../components/ui/badge'
import { Button } from '../../components/ui/button'
import { Card, CardDescription, CardHeader, CardTitle } from '../../components/ui/card'
import { Field } from '../../components/ui/field'
import { fieldClasses, Input } from '../../components/ui/input'
import { Label } from '../../components/ui/label'
import { LoadingRows } from '../../components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '../../components/ui/table'
import { useToast } from '../../components/ui/toast'
import { lifetimeInWords, MEMBER_INVITATION_TTL_MS } from '../account/link-lifetimes'
import { formatWhen } from '../console/format'
import { canManage, type Me, ME_KEY, type Role, useMe } from '../console/session'
import { EmptyState, ErrorState, PageHeader } from '../console/states'
import { type Member, MEMBER_INVITATIONS_KEY, type MemberInvitation, MEMBERS_KEY, useMemberInvitations, useMembers } from './api'
import { ConfirmDialog } from '../../components/ui/confirm-dialog'

const ROLES: Array<{ value: Role; label: string; what: string }> = [
  { value: 'owner', label: 'Owner', what: 'everything, including roles and other owners' },
  { value: 'admin', label: 'Admin', what: 'seeds, assessments, invitations, templates, members and API keys' },
  { value: 'reviewer', label: 'Reviewer', what: 'reviews, comments, ratings and follow-ups' },
  { value: 'viewer', label: 'Viewer', what: 'reads assessments, invitations and reviews; changes nothing' },
]
const roleLabel = (role: string) => ROLES.find((r) => r.value === role)?.label ?? role

// The API's rules (core/src/services/members.ts): owners and admins invite, withdraw invitations and
// remove members, but an owner's place is an owner's alone to grant, withdraw or take away; only owners
// change roles.
const mayManageRole = (me: Role, role: Role) => canManage(me) && (role !== 'owner' || me === 'owner')
const mayChangeRoles = (me: Role) => me === 'owner'

const who = (m: Member) => m.user.name ?? m.user.email

function InviteMember({ me }: { me: Role }) {
  const queryClient = useQueryClient()
  const toast = useToast()
  const [email, setEmail] = useState('')
  const [role, setRole] = useState<Role>('reviewer')
  const invite = useMutation({
    mutationFn: (body: { email: string; role: Role }) => apiFetch<MemberInvitation>('/api/members', { method: 'POST', body }),
    onSuccess: (invitation) => {
      setEmail('')
      toast(`Invitation sent to ${invitation.email}`)
      void queryClient.invalidateQueries({ queryKey: MEMBER_INVITATIONS_KEY })
    },
  })
  const error = invite.error instanceof ApiError ? invite.error : undefined
  const emailError = error?.fieldMessage('email')
  const roleError = error?.fieldMessage('role')
  const submit = (event: FormEvent) => {
    event.preventDefault()
    invite.mutate({ email: email.trim(), role })
  }
  return (
    <Card aria-labelledby="invite-member-title">
      <CardHeader>
        <div>
          <CardTitle id="invite-member-title">Invite a teammate</CardTitle>
          <CardDescription>
            They get an email with a link, valid {lifetimeInWords(MEMBER_INVITATION_TTL_MS)}, and join with the role you choose.
          </CardDescription>
        </div>
      </CardHeader>
      <form onSubmit={submit} className="space-y-3" aria-busy={invite.isPending}>
        <div className="grid gap-3 sm:grid-cols-[minmax(0,1fr)_12rem]">
          <Field id="invite-email" label="Email" error={emailError}>
            <Input type="email" required maxLength={254} autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} />
          </Field>
          <Field id="invite-role" label="Role" error={roleError}>
            <select className={cn(fieldClasses, 'h-9')} value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {ROLES.filter((r) => mayManageRole(me, r.value)).map((r) => (
                <option key={r.value} value={r.value}>
                  {r.label}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <p className="text-xs text-muted">
          {roleLabel(role)}: {ROLES.find((r) => r.value === role)?.what}.
        </p>
        {invite.isError && !emailError && !roleError && (
          <Alert tone="danger" title="The invitation was not sent">
            <p>{invite.error.message}</p>
          </Alert>
        )}
        <Button type="submit" disabled={invite.isPending || email.trim() === ''}>
          {invite.isPending ? 'Sending…' : 'Send invitation'}
        </Button>
      </form>
    </Card>
  )
}

function PendingInvitations({ me }: { me: Role }) {
  const queryClient = useQueryClient()
  const toast = useToast()
  const invitations = useMemberInvitations()
  const [cancelling, setCancelling] = useState<MemberInvitation>()
  return (
    <Card aria-labelledby="pending-invitations-title">
      <CardHeader>
        <CardTitle id="pending-invitations-title">Pending invitations</CardTitle>
      </CardHeader>
      {invitations.isPending ? (
        <LoadingRows label="Loading the invitations…" rows={2} />
      ) : invitations.isError ? (
        <ErrorState error={invitations.error} retry={() => void invitations.refetch()} what="the invitations" />
      ) : invitations.data.length === 0 ? (
        <p className="text-sm text-muted">No invitation waiting to be accepted.</p>
      ) : (
        <Table aria-label="Pending invitations">
          <TableHead>
            <TableRow>
              <TableHeader>Email</TableHeader>
              <TableHeader>Role</TableHeader>
              <TableHeader>Sent</TableHeader>
              <TableHeader>Expires</TableHeader>
              <TableHeader>
                <span className="sr-only">Actions</span>
              </TableHeader>
            </TableRow>
          </TableHead>
          <TableBody>
            {invitations.data.map((i) => (
              <TableRow key={i.id}>
                <TableCell className="break-all">{i.email}</TableCell>
                <TableCell>{roleLabel(i.role)}</TableCell>
                <TableCell className="whitespace-nowrap">{formatWhen(i.created_at)}</TableCell>
                <TableCell className="whitespace-nowrap">{formatWhen(i.expires_at)}</TableCell>
                <TableCell className="text-right">
                  {mayManageRole(me, i.role) && (
                    <Button variant="secondary" size="sm" onClick={() => setCancelling(i)} aria-label={`Cancel the invitation of ${i.email}`}>
                      Cancel…
                    </Button>
                  )}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {cancelling && (
        <ConfirmDialog
          title="Cancel this invitation?"
          description={`The link sent to ${cancelling.email} stops working.`}
          keep="Keep it"
          confirm="Cancel invitation"
          busy="Cancelling…"
          action={() => apiFetch(`/api/members/invitations/${cancelling.id}`, { method: 'DELETE' })}
          onDone={() => {
            toast(`Invitation of ${cancelling.email} cancelled`)
            void queryClient.invalidateQueries({ queryKey: MEMBER_INVITATIONS_KEY })
          }}
          onOpenChange={(open) => !open && setCancelling(undefined)}
        />
      )}
    </Card>
  )
}

/**
 * An owner's control of a member's role. Choosing a role only proposes it: a button applies it,
 * so arrowing through the closed list (which picks as it goes on some systems) changes nothing.
 * A refusal reads below it, and the list goes back to the role that still holds.
 */
function RoleSelect({ member, self }: { member: Member; self: boolean }) {
  const queryClient = useQueryClient()
  const toast = useToast()
  const [chosen, setChosen] = useState<Role>(member.role)
  const change = useMutation({
    mutationFn: (role: Role) => apiFetch(`/api/members/${member.user.id}`, { method: 'PATCH', body: { role } }),
    // Pending until the list has the new role, so the Change button does not flash back meanwhile.
    onSuccess: async (_data, role) => {
      toast(self ? `You are now ${roleLabel(role).toLowerCase()}` : `${who(member)} is now ${roleLabel(role).toLowerCase()}`)
      // An owner who stepped down loses the owner's controls everywhere in the console.
      if (self) void queryClient.invalidateQueries({ queryKey: ME_KEY })
      await queryClient.invalidateQueries({ queryKey: MEMBERS_KEY })
    },
    onError: () => setChosen(member.role),
  })
  const id = `role-${member.user.id}`
  const submit = (event: FormEvent) => {
    event.preventDefault()
    change.mutate(chosen)
  }
  return (
    <form onSubmit={submit} className="min-w-32 space-y-1" aria-busy={change.isPending}>
      <div className="flex flex-wrap items-center gap-2">
        <Label htmlFor={id} className="sr-only">
          Role of {who(member)}
        </Label>
        <select
          id={id}
          className={cn(fieldClasses, 'h-8 w-auto')}
          value={chosen}
          onChange={(e) => setChosen(e.target.value as Role)}
          disabled={change.isPending}
          aria-describedby={change.isError ? `${id}-error` : undefined}
          aria-invalid={change.isError || undefined}
        >
          {ROLES.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
        {chosen !== member.role && (
          <Button type="submit" size="sm" disabled={change.isPending} aria-label={`Change role of ${who(member)} to ${roleLabel(chosen).toLowerCase()}`}>
            {change.isPending ? 'Changing…' : 'Change role'}
          </Button>
        )}
      </div>
      {change.isError && (
        <p id={`${id}-error`} role="alert" className="text-sm text-danger">
          {change.error.message}
        </p>
      )}
    </form>
  )
}

function MemberTable({ me }: { me: Me }) {
  const queryClient = useQueryClient()
  const toast = useToast()
  const members = useMembers()
  const [removing, setRemoving] = useState<Member>()
  const manage = canManage(me.role)
  if (members.isPending) return <LoadingRows label="Loading the members…" />
  if (members.isError) return <ErrorState error={members.error} retry={() => void members.refetch()} what="the members" />
  if (members.data.length === 0) return <EmptyState title="No members" />
  const self = removing?.user.id === me.user.id
  return (
    <Card aria-labelledby="members-title">
      <CardHeader>
        <CardTitle id="members-title">Members</CardTitle>
      </CardHeader>
      <Table aria-label="Members">
        <TableHead>
          <TableRow>
            <TableHeader>Name</TableHeader>
            <TableHeader>Email</TableHeader>
            <TableHeader>Role</TableHeader>
            <TableHeader>Joined</TableHeader>
            {manage && (
              <TableHeader>
                <span className="sr-only">Actions</span>
              </TableHeader>
            )}
          </TableRow>
        </TableHead>
        <TableBody>
          {members.data.map((m) => (
            <TableRow key={m.user.id}>
              <TableCell className="font-medium break-words">
                {m.user.name ?? '—'} {m.user.id === me.user.id && <Badge>you</Badge>}
              </TableCell>
              <TableCell className="break-all">{m.user.email}</TableCell>
              <TableCell>
                {mayChangeRoles(me.role) ? (
                  // Keyed by the held role: a role changed elsewhere resets what was chosen here.
                  <RoleSelect key={m.role} member={m} self={m.user.id === me.user.id} />
                ) : (
                  roleLabel(m.role)
                )}
              </TableCell>
              <TableCell className="whitespace-nowrap">{formatWhen(m.joined_at)}</TableCell>
              {manage && (
                <TableCell className="text-right">
                  {mayManageRole(me.role, m.role) && (
                    <Button variant="secondary" size="sm" onClick={() => setRemoving(m)} aria-label={`Remove ${who(m)}`}>
                      Remove…
                    </Button>
                  )}
                </TableCell>
              )}
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {removing && (
        <ConfirmDialog
          title={self ? 'Leave this organisation?' : `Remove ${who(removing)}?`}
          description={
            self
              ? `You lose access to ${me.org.name} at once, and the API keys you made for it stop working.`
              : `${who(removing)} loses access to ${me.org.name} at once: their sessions end and the API keys they made for it are revoked.`
          }
          confirm={self ? 'Leave' : 'Remove'}
          busy={self ? 'Leaving…' : 'Removing…'}
          action={() => apiFetch(`/api/members/${removing.user.id}`, { method: 'DELETE' })}
          onDone={() => {
            toast(self ? `You left ${me.org.name}` : `${who(removing)} removed`)
            void queryClient.invalidateQueries({ queryKey: MEMBERS_KEY })
            // Leaving ended this session too: the console finds out and goes to the login page.
            if (self) void queryClient.invalidateQueries({ queryKey: ME_KEY })
          }}
          onOpenChange={(open) => !open && setRemoving(undefined)}
        />
      )}
    </Card>
  )
}

export function Members() {
  const me = useMe().data!
  const manage = canManage(me.role)
  return (
    <>
      <PageHeader
        title="Members"
        description={manage ? 'Who belongs to your organisation, and what each may do.' : 'Who belongs to your organisation. Owners and admins manage members.'}
      />
      <div className="space-y-5">
        {manage && <InviteMember me={me.role} />}
        {manage && <PendingInvitations me={me.role} />}
        <MemberTable me={me} />
      </div>
    </>
  )
}
