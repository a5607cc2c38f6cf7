'use client'

import { useMutation } from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { Alert } from './alert'
import { Button } from './button'
import { Dialog, DialogClose, DialogContent } from './dialog'

/**
 * Asks before a destructive action and runs it; a refusal shows the API's message in the
 * dialog, which stays open. It closes itself once the action succeeded.
 */
export function ConfirmDialog({
  title,
  description,
  confirm,
  busy,
  keep = 'Cancel',
  action,
  onDone,
  onOpenChange,
}: {
  title: string
  description: ReactNode
  /** The confirming button's words ("Remove"), and `busy` while it runs ("Removing…"). */
  confirm: string
  busy: string
  keep?: string
  action: () => Promise<unknown>
  onDone: () => void
  onOpenChange: (open: boolean) => void
}) {
  const run = useMutation({
    mutationFn: action,
    onSuccess: () => {
      onOpenChange(false)
      onDone()
    },
  })
  return (
    <Dialog open onOpenChange={onOpenChange}>
      <DialogContent title={title} description={description}>
        {run.isError && (
          <Alert tone="danger" className="mb-3">
            <p>{run.error.message}</p>
          </Alert>
        )}
        <div className="flex flex-wrap justify-end gap-2">
          <DialogClose asChild>
            <Button variant="secondary">{keep}</Button>
          </DialogClose>
          <Button variant="danger" onClick={() => run.mutate()} disabled={run.isPending}>
            {run.isPending ? busy : confirm}
          </Button>
        </div>
      </DialogContent>
    </Dialog>
  )
}
