'use client'

import { useMutation, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { ApiError, apiFetch } from '../../lib/console-api'
import { Alert } from '../../components/ui/alert'
import { Badge } from '../../components/ui/badge'
import { Button } from '../../components/ui/button'
import { Card, CardDescription, CardHeader, CardTitle } from '../../components/ui/card'
import { Dialog, DialogClose, DialogContent } from '../../components/ui/dialog'
import { Field } from '../../components/ui/field'
import { Input } from '../../components/ui/input'
import { LoadingRows } from '../../components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '../../components/ui/table'
import { useToast } from '../../components/ui/toast'
import { CopyButton } from '../console/copy-button'
import { formatWhen } from '../console/format'
import { canManage, useRole } from '../console/session'
import { EmptyState, ErrorState, PageHeader } from '../console/states'
import { type ApiKey, API_KEYS_KEY, useApiKeys } from './api'
import { ConfirmDialog } from '../../components/ui/confirm-dialog'

/** A key just made: held by the dialog that shows it, and nowhere else. */
interface NewKey {
  name: string
  key: string
}

/**
 * Shows a new key once, to copy; closing the dialog forgets it, so only its own buttons close
 * it: a stray Escape or click beside it would lose the key for good.
 */
function NewKeyDialog({ created, onClose }: { created: NewKey; onClose: () => void }) {
  return (
    <Dialog open onOpenChange={(open) => !open && onClose()}>
      <DialogContent
        title={`API key “${created.name}” created`}
        description="Copy it now: you will not see it again."
        onEscapeKeyDown={(e) => e.preventDefault()}
        onInteractOutside={(e) => e.preventDefault()}
      >
        <div className="space-y-3">
          <Field id="new-api-key" label="API key">
            <Input readOnly value={created.key} className="font-mono text-xs" onFocus={(e) => e.target.select()} />
          </Field>
          <p className="text-sm text-muted">
            Send it as <code>Authorization: Bearer …</code>. It acts with your role, until it is revoked or you leave the
            organisation. Takehome keeps only a hash of it.
          </p>
          <div className="flex flex-wrap justify-end gap-2">
            <CopyButton text={created.key} label="API key" variant="secondary" size="md">
              Copy
            </CopyButton>
            <DialogClose asChild>
              <Button>I have copied it</Button>
            </DialogClose>
          </div>
        </div>
      </DialogContent>
    </Dialog>
  )
}

function CreateApiKey() {
  const queryClient = useQueryClient()
  const [name, setName] = useState('')
  const [created, setCreated] = useState<NewKey>()
  const create = useMutation({
    // The key goes straight to the dialog's state: the mutation's result, which the query
    // client keeps for a while, holds only what the list shows anyway.
    mutationFn: async (keyName: string) => {
      const { key, ...listed } = await apiFetch<ApiKey & { key: string }>('/api/api-keys', { method: 'POST', body: { name: keyName } })
      setCreated({ name: listed.name, key })
      return listed
    },
    onSuccess: () => {
      setName('')
      void queryClient.invalidateQueries({ queryKey: API_KEYS_KEY })
    },
  })
  const nameError = create.error instanceof ApiError ? create.error.fieldMessage('name') : undefined
  const submit = (event: FormEvent) => {
    event.preventDefault()
    create.mutate(name.trim())
  }
  return (
    <Card aria-labelledby="create-key-title">
      <CardHeader>
        <div>
          <CardTitle id="create-key-title">Create an API key</CardTitle>
          <CardDescription>For scripts and CI: the key acts with your role in this organisation.</CardDescription>
        </div>
      </CardHeader>
      <form onSubmit={submit} className="space-y-3" aria-busy={create.isPending}>
        <Field id="api-key-name" label="Name" hint="What it is for, e.g. “CI invitations”." error={nameError}>
          <Input required maxLength={100} autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        {create.isError && !nameError && (
          <Alert tone="danger" title="The key was not created">
            <p>{create.error.message}</p>
          </Alert>
        )}
        <Button type="submit" disabled={create.isPending || name.trim() === ''}>
          {create.isPending ? 'Creating…' : 'Create key'}
        </Button>
      </form>
      {created && <NewKeyDialog created={created} onClose={() => setCreated(undefined)} />}
    </Card>
  )
}

function KeyList() {
  const queryClient = useQueryClient()
  const toast = useToast()
  const keys = useApiKeys()
  const [revoking, setRevoking] = useState<ApiKey>()
  if (keys.isPending) return <LoadingRows label="Loading the API keys…" />
  if (keys.isError) return <ErrorState error={keys.error} retry={() => void keys.refetch()} what="the API keys" />
  if (keys.data.length === 0) return <EmptyState title="No API keys yet">Create one above to call the API from a script.</EmptyState>
  return (
    <Card aria-labelledby="api-keys-title">
      <CardHeader>
        <CardTitle id="api-keys-title">Keys</CardTitle>
      </CardHeader>
      <Table aria-label="API keys">
        <TableHead>
          <TableRow>
            <TableHeader>Name</TableHeader>
            <TableHeader>Key</TableHeader>
            <TableHeader>Created</TableHeader>
            <TableHeader>Last used</TableHeader>
            <TableHeader>
              <span className="sr-only">Status and actions</span>
            </TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {keys.data.map((k) => (
            <TableRow key={k.id} className={k.revoked_at ? 'text-muted' : undefined}>
              <TableCell className="font-medium break-words">{k.name}</TableCell>
              <TableCell className="whitespace-nowrap">
                <code>{k.hint}</code>
              </TableCell>
              <TableCell className="whitespace-nowrap">{formatWhen(k.created_at)}</TableCell>
              <TableCell className="whitespace-nowrap">{k.last_used_at ? formatWhen(k.last_used_at) : 'Never'}</TableCell>
              <TableCell className="text-right whitespace-nowrap">
                {k.revoked_at ? (
                  <Badge tone="danger" title={`Revoked ${formatWhen(k.revoked_at)}`}>
                    Revoked
                  </Badge>
                ) : (
                  <Button variant="secondary" size="sm" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.name}`}>
                    Revoke…
                  </Button>
                )}
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {revoking && (
        <ConfirmDialog
          title={`Revoke “${revoking.name}”?`}
          description="Anything that uses this key is refused from now on. This cannot be undone."
          keep="Keep it"
          confirm="Revoke"
          busy="Revoking…"
          action={() => apiFetch(`/api/api-keys/${revoking.id}`, { method: 'DELETE' })}
          onDone={() => {
            toast(`API key “${revoking.name}” revoked`)
            void queryClient.invalidateQueries({ queryKey: API_KEYS_KEY })
          }}
          onOpenChange={(open) => !open && setRevoking(undefined)}
        />
      )}
    </Card>
  )
}

export function ApiKeys() {
  const role = useRole()
  return (
    <>
      <PageHeader title="API keys" description="Keys let scripts call the Takehome API as you, without a password." />
      {canManage(role) ? (
        <div className="space-y-5">
          <CreateApiKey />
          <KeyList />
        </div>
      ) : (
        <Alert tone="info" title="Only owners and admins manage API keys">
          <p>Ask one of them if a script needs to call the API.</p>
        </Alert>
      )}
    </>
  )
}
