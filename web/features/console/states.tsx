'use client'

import type { ReactNode } from 'react'
import { ApiError } from '../../lib/console-api'
import { Alert } from '../../components/ui/alert'
import { Button } from '../../components/ui/button'

/** What went wrong with a load, in the API's words, with a way to try again. */
export function ErrorState({ error, retry, what }: { error: unknown; retry?: () => void; what: string }) {
  const message = error instanceof ApiError ? error.message : 'Something went wrong.'
  return (
    <Alert tone="danger" title={`Could not load ${what}`}>
      <p>{message}</p>
      {retry && (
        <Button variant="secondary" size="sm" className="mt-2" onClick={retry}>
          Try again
        </Button>
      )}
    </Alert>
  )
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-border px-4 py-8 text-center">
      <p className="font-semibold">{title}</p>
      {children && <div className="mx-auto mt-1 max-w-prose text-sm text-muted">{children}</div>}
    </div>
  )
}

/** A page's title line, with its actions on the right (wrapping below on a narrow screen). */
export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-5 flex flex-wrap items-end justify-between gap-3">
      <div className="min-w-0">
        <h1 className="text-2xl font-bold break-words">{title}</h1>
        {description && <p className="mt-1 text-sm text-muted">{description}</p>}
      </div>
      {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
    </div>
  )
}
