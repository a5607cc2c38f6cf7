'use client'

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { RefreshCw } from 'lucide-react'
import { type FormEvent, useState } from 'react'
import { ApiError, apiFetch } from '../../lib/console-api'
import { Alert } from '../../components/ui/alert'
import { Button } from '../../components/ui/button'
import { Card, CardDescription, CardHeader, CardTitle } from '../../components/ui/card'
import { Field } from '../../components/ui/field'
import { Input } from '../../components/ui/input'
import { LoadingRows } from '../../components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '../../components/ui/table'
import { useToast } from '../../components/ui/toast'
import { CopyButton } from '../console/copy-button'
import { formatWhen, shortSha } from '../console/format'
import { canManage, useRole } from '../console/session'
import { EmptyState, ErrorState, PageHeader } from '../console/states'

/** A seed as GET /api/seeds lists it. */
export interface Seed {
  id: string
  source_url: string
  default_branch: string
  latest_main_sha: string | null
  synced_at: string | null
  created_at: string
}

export const SEEDS_KEY = ['seeds'] as const

export const useSeeds = () =>
  useQuery({ queryKey: SEEDS_KEY, queryFn: ({ signal }) => apiFetch<{ seeds: Seed[] }>('/api/seeds', { signal }) })

/** Why git could not read a source (the API's `details.reason`), in plain words. */
const REASONS: Record<string, string> = {
  not_found: 'There is no repository at that address.',
  auth_required: 'The repository asks for credentials: it is private, or the address is wrong.',
  not_a_repository: 'That path is not a git repository.',
  unreachable: 'The host could not be reached.',
  too_large: 'The repository is too large to copy.',
  timeout: 'Copying took too long and was stopped.',
}

function failureOf(error: unknown): string {
  if (!(error instanceof ApiError)) return 'Something went wrong.'
  const reason = (error.details as { reason?: unknown } | undefined)?.reason
  const plain = typeof reason === 'string' ? REASONS[reason] : undefined
  return plain ? `${plain} (${error.message})` : error.message
}

function AddSeed() {
  const queryClient = useQueryClient()
  const toast = useToast()
  const [sourceUrl, setSourceUrl] = useState('')
  const add = useMutation({
    mutationFn: (source_url: string) => apiFetch<Seed>('/api/seeds', { method: 'POST', body: { source_url } }),
    onSuccess: (seed) => {
      setSourceUrl('')
      toast(`Seed added at ${shortSha(seed.latest_main_sha)}`)
      void queryClient.invalidateQueries({ queryKey: SEEDS_KEY })
    },
  })
  const fieldError = add.error instanceof ApiError ? add.error.fieldMessage('source_url') : undefined
  const submit = (event: FormEvent) => {
    event.preventDefault()
    add.mutate(sourceUrl.trim())
  }
  return (
    <Card aria-labelledby="add-seed-title" className="mb-5">
      <CardHeader>
        <div>
          <CardTitle id="add-seed-title">Add a seed</CardTitle>
          <CardDescription>
            A template repository every candidate&apos;s repository starts from. Takehome copies it and follows its default
            branch.
          </CardDescription>
        </div>
      </CardHeader>
      <form onSubmit={submit} className="space-y-3" aria-busy={add.isPending}>
        <Field id="seed-source" label="Git URL or path" error={fieldError} hint="For example https://github.com/acme/exercise.git">
          <Input
            name="source_url"
            value={sourceUrl}
            onChange={(e) => setSourceUrl(e.target.value)}
            required
            maxLength={2000}
            autoComplete="off"
            spellCheck={false}
            readOnly={add.isPending}
          />
        </Field>
        {add.isError && !fieldError && (
          <Alert tone="danger" title="The seed could not be added">
            <p>{failureOf(add.error)}</p>
          </Alert>
        )}
        <div className="flex flex-wrap items-center gap-3">
          <Button type="submit" disabled={add.isPending || sourceUrl.trim() === ''}>
            {add.isPending ? 'Copying…' : 'Add seed'}
          </Button>
          {add.isPending && (
            <p role="status" className="flex items-center gap-2 text-sm text-muted">
              <RefreshCw className="size-4 animate-spin motion-reduce:animate-none" aria-hidden />
              Copying the repository; large ones take a while.
            </p>
          )}
        </div>
      </form>
    </Card>
  )
}

function SyncButton({ seed }: { seed: Seed }) {
  const queryClient = useQueryClient()
  const toast = useToast()
  const sync = useMutation({
    mutationFn: () => apiFetch<Seed>(`/api/seeds/${seed.id}/sync`, { method: 'POST' }),
    onSuccess: (synced) => {
      toast(`Synced: main is at ${shortSha(synced.latest_main_sha)}`)
      void queryClient.invalidateQueries({ queryKey: SEEDS_KEY })
    },
    onError: (error) => toast(`Sync failed: ${failureOf(error)}`, 'danger'),
  })
  return (
    <Button variant="secondary" size="sm" onClick={() => sync.mutate()} disabled={sync.isPending} aria-label={`Sync ${seed.source_url}`}>
      <RefreshCw className={sync.isPending ? 'animate-spin motion-reduce:animate-none' : undefined} aria-hidden />
      {sync.isPending ? 'Syncing…' : 'Sync'}
    </Button>
  )
}

export function Seeds() {
  const role = useRole()
  const seeds = useSeeds()
  return (
    <>
      <PageHeader title="Seeds" description="The template repositories assessments are made from." />
      {canManage(role) && <AddSeed />}
      {seeds.isPending ? (
        <LoadingRows label="Loading seeds…" />
      ) : seeds.isError ? (
        <ErrorState error={seeds.error} retry={() => void seeds.refetch()} what="the seeds" />
      ) : seeds.data.seeds.length === 0 ? (
        <EmptyState title="No seeds yet">A seed is the repository each candidate gets a copy of. Add one above.</EmptyState>
      ) : (
        <Card aria-label="Seeds">
          <Table>
            <TableHead>
              <TableRow>
                <TableHeader>Source</TableHeader>
                <TableHeader>Latest main</TableHeader>
                <TableHeader>Last synced</TableHeader>
                {canManage(role) && (
                  <TableHeader>
                    <span className="sr-only">Actions</span>
                  </TableHeader>
                )}
              </TableRow>
            </TableHead>
            <TableBody>
              {seeds.data.seeds.map((seed) => (
                <TableRow key={seed.id}>
                  <TableCell className="max-w-72 min-w-40 break-all">{seed.source_url}</TableCell>
                  <TableCell className="whitespace-nowrap">
                    <code title={seed.latest_main_sha ?? undefined}>{shortSha(seed.latest_main_sha)}</code>
                    {seed.latest_main_sha && <CopyButton text={seed.latest_main_sha} label="SHA" />}
                  </TableCell>
                  <TableCell className="whitespace-nowrap">{formatWhen(seed.synced_at)}</TableCell>
                  {canManage(role) && (
                    <TableCell className="text-right">
                      <SyncButton seed={seed} />
                    </TableCell>
                  )}
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Card>
      )}
    </>
  )
}
