'use client'

import { useDeferredValue, useEffect, useMemo, useState } from 'react'
import { cn } from '../../lib/cn'
import { DiffFile, type ViewMode } from './diff-file'
import type { Comment, Diff } from './review-api'

const MODE_KEY = 'takehome.review.diff-view'
/**
 * Files put on the page in the first render. The others follow in a render React may
 * interrupt, so the first file is drawn without waiting for hundreds of placeholders.
 */
const FIRST_FILES = 10
const MODES: Array<[ViewMode, string]> = [
  ['line-by-line', 'Unified'],
  ['side-by-side', 'Side by side'],
]

/** The reviewer's last choice of view, kept in this browser. */
function useViewMode() {
  const [mode, setMode] = useState<ViewMode>('line-by-line')
  useEffect(() => {
    const saved = window.localStorage.getItem(MODE_KEY)
    if (saved === 'side-by-side' || saved === 'line-by-line') setMode(saved)
  }, [])
  return [
    mode,
    (next: ViewMode) => {
      setMode(next)
      window.localStorage.setItem(MODE_KEY, next)
    },
  ] as const
}

export function DiffView({ diff, comments, canComment, invitationId }: { diff: Diff; comments: Comment[]; canComment: boolean; invitationId: string }) {
  const [mode, setMode] = useViewMode()
  const byPath = useMemo(() => {
    const map = new Map<string, Comment[]>()
    for (const c of comments) if (c.path !== null) map.set(c.path, [...(map.get(c.path) ?? []), c])
    return map
  }, [comments])
  const anchor = (i: number) => `diff-file-${i}`
  const shown = diff.files.slice(0, useDeferredValue(diff.files.length, Math.min(FIRST_FILES, diff.files.length)))

  if (diff.files.length === 0) {
    return <p className="rounded-md border border-border bg-surface p-4 text-muted">No files changed: the candidate’s commits leave the repository as the base commit had it.</p>
  }
  return (
    <div className="flex min-w-0 flex-col gap-4">
      <div className="flex flex-wrap items-center gap-3">
        <p className="text-sm">
          {diff.totals.files} {diff.totals.files === 1 ? 'file' : 'files'} changed,{' '}
          <span className="text-success">{diff.totals.additions} additions</span>, <span className="text-danger">{diff.totals.deletions} deletions</span>
        </p>
        <div role="group" aria-label="Diff layout" className="ml-auto inline-flex overflow-hidden rounded-md border border-border">
          {MODES.map(([value, label]) => (
            <button
              key={value}
              type="button"
              aria-pressed={mode === value}
              onClick={() => setMode(value)}
              className={cn('px-3 py-1 text-sm', mode === value ? 'bg-primary text-primary-foreground' : 'bg-surface')}
            >
              {label}
            </button>
          ))}
        </div>
      </div>
      {(diff.truncated || diff.truncation.uncounted_files > 0) && (
        <p role="note" className="rounded-md bg-warning-soft px-3 py-2 text-sm text-warning">
          {diff.truncated &&
            `${diff.truncation.files} ${diff.truncation.files === 1 ? 'file is' : 'files are'} listed without its change (+${diff.truncation.additions} −${diff.truncation.deletions}): each says why. `}
          {diff.truncation.uncounted_files > 0 && `${diff.truncation.uncounted_files} files were too large to count, so the totals leave them out. `}
          The ZIP download has every file.
        </p>
      )}
      <nav aria-label="Changed files" className="max-h-64 overflow-y-auto rounded-md border border-border bg-surface">
        <ol className="divide-y divide-border text-sm">
          {shown.map((f, i) => (
            <li key={`${f.old_path}\0${f.path}`}>
              <a href={`#${anchor(i)}`} className="flex min-w-0 items-baseline gap-3 px-3 py-1 no-underline hover:bg-background">
                <span className="min-w-0 flex-1 truncate font-mono text-foreground">{f.path}</span>
                <span className="shrink-0 font-mono text-xs">
                  {f.additions === null ? (
                    <span className="text-muted">{f.binary ? 'binary' : 'not counted'}</span>
                  ) : (
                    <>
                      <span className="text-success">+{f.additions}</span> <span className="text-danger">−{f.deletions}</span>
                    </>
                  )}
                </span>
              </a>
            </li>
          ))}
        </ol>
      </nav>
      <div className="flex min-w-0 flex-col gap-4">
        {shown.map((f, i) => (
          <DiffFile
            key={`${f.old_path}\0${f.path}`}
            file={f}
            eager={i === 0}
            anchorId={anchor(i)}
            mode={mode}
            comments={byPath.get(f.path) ?? []}
            canComment={canComment}
            invitationId={invitationId}
          />
        ))}
      </div>
    </div>
  )
}
