'use client'

import { type Diff2HtmlConfig, html as renderDiff, parse } from 'diff2html'
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react'
import { createPortal } from 'react-dom'
import { Button } from '../../components/ui/button'
import { CommentForm, CommentList } from './comment-thread'
import { TRUNCATION_REASONS } from './truncation'
import { highlightFile } from './highlight'
import type { Comment, DiffFileEntry } from './review-api'

export type ViewMode = 'line-by-line' | 'side-by-side'

/** A file over this many changed lines waits for a click: building its table at once is what would stall the page. */
export const LARGE_FILE_LINES = 1_000
/** Files start rendering this far before they scroll into view. */
const NEAR = '800px 0px'
/** About one rendered diff line: placeholders take the height their file will, so the scrollbar and the jumps hold still. */
const LINE_PX = 20

/** Follows the reader's light or dark scheme, as the console does. */
const AUTO_COLOURS = 'auto' as Diff2HtmlConfig['colorScheme']

const STATUS = { added: 'Added', deleted: 'Deleted', modified: 'Modified', renamed: 'Renamed' } as const

/** A line of the new version in the rendered table: its row, the row beside it (side-by-side) and its number's cell. */
interface LineRow {
  row: HTMLTableRowElement
  mirror: HTMLTableRowElement | undefined
  cell: HTMLElement
}

/** The rows of the new version's lines, by line number: comments are on the file as it was submitted. */
function newSideRows(body: HTMLElement, mode: ViewMode) {
  const rows = new Map<number, LineRow>()
  const add = (cell: HTMLElement | null | undefined, row: HTMLTableRowElement, mirror?: HTMLTableRowElement) => {
    const line = Number(cell?.textContent?.trim())
    if (cell && Number.isInteger(line) && line > 0) rows.set(line, { row, mirror, cell })
  }
  if (mode === 'line-by-line') {
    for (const row of body.querySelectorAll<HTMLTableRowElement>('tbody tr')) add(row.querySelector<HTMLElement>('.line-num2'), row)
  } else {
    const [left, right] = body.querySelectorAll<HTMLTableSectionElement>('.d2h-file-side-diff tbody')
    if (!left || !right) return rows
    Array.from(right.rows).forEach((row, i) => add(row.querySelector<HTMLElement>('.d2h-code-side-linenumber'), row, left.rows[i]))
  }
  return rows
}

/** Line numbers become buttons that open a comment box: keyboard users reach them like any button. */
function addLineButtons(rows: Map<number, LineRow>, path: string) {
  for (const [line, { cell }] of rows) {
    const button = document.createElement('button')
    button.type = 'button'
    button.className = 'review-line-button'
    button.dataset['line'] = String(line)
    button.textContent = String(line)
    button.setAttribute('aria-label', `Comment on line ${line} of ${path}`)
    cell.replaceChildren(button)
  }
}

/**
 * A table row under `line` to hold its comments (and, side by side, an empty row of the
 * same height in the old version's table so both sides stay level). Returns the element
 * React renders into, and how to take the rows out again.
 */
function openSlot(at: LineRow): { slot: HTMLElement; remove: () => void } {
  const row = (cls: string) => {
    const tr = document.createElement('tr')
    tr.className = cls
    const td = document.createElement('td')
    td.colSpan = 2
    tr.append(td)
    return { tr, td }
  }
  const own = row('review-slot')
  const slot = document.createElement('div')
  slot.className = 'review-slot-body'
  own.td.append(slot)
  at.row.after(own.tr)
  if (!at.mirror) return { slot, remove: () => own.tr.remove() }
  const spacer = row('review-slot-spacer')
  at.mirror.after(spacer.tr)
  const level = new ResizeObserver(() => {
    spacer.tr.style.height = `${own.tr.getBoundingClientRect().height}px`
  })
  level.observe(own.tr)
  return {
    slot,
    remove: () => {
      level.disconnect()
      own.tr.remove()
      spacer.tr.remove()
    },
  }
}

interface Props {
  file: DiffFileEntry
  /** Drawn at once, without waiting to be told it is near the viewport: the first file, which the page opens on. */
  eager?: boolean
  anchorId: string
  mode: ViewMode
  comments: Comment[]
  canComment: boolean
  invitationId: string
}

/**
 * One changed file: its header and counts at once, its diff2html table only once it comes
 * near the viewport (or on a click when it is very large), with comments under their lines.
 */
export function DiffFile({ file, eager = false, anchorId, mode, comments, canComment, invitationId }: Props) {
  const changed = (file.additions ?? 0) + (file.deletions ?? 0)
  const large = changed > LARGE_FILE_LINES
  const sectionRef = useRef<HTMLElement>(null)
  const bodyRef = useRef<HTMLDivElement>(null)
  const [near, setNear] = useState(eager)
  const [asked, setAsked] = useState(false)
  const [openLine, setOpenLine] = useState<number | null>(null)
  const [rows, setRows] = useState<Map<number, LineRow>>(() => new Map())
  const [slots, setSlots] = useState<Map<number, HTMLElement>>(() => new Map())

  useEffect(() => {
    const el = sectionRef.current
    if (!el || near) return
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) setNear(true)
    }, { rootMargin: NEAR })
    observer.observe(el)
    return () => observer.disconnect()
  }, [near])

  const show = file.patch !== null && near && (!large || asked)
  const parsed = useMemo(() => (show && file.patch ? parse(file.patch) : null), [show, file.patch])
  const markup = useMemo(
    () => (parsed ? renderDiff(parsed, { outputFormat: mode, drawFileList: false, matching: 'lines', colorScheme: AUTO_COLOURS }) : null),
    [parsed, mode],
  )

  // React puts the table in (in the server's HTML too, for a page rendered with its diff);
  // here it gets its line buttons and colours.
  useLayoutEffect(() => {
    const body = bodyRef.current
    if (!body || markup === null) return
    const found = newSideRows(body, mode)
    if (canComment) addLineButtons(found, file.path)
    setRows(found)
    let replaced = false
    const idle = window.requestIdleCallback ?? ((fn: () => void) => window.setTimeout(fn, 1))
    idle(() => void highlightFile(body, () => replaced))
    return () => {
      replaced = true
    }
  }, [markup, mode, canComment, file.path])

  const byLine = useMemo(() => {
    const map = new Map<number, Comment[]>()
    for (const c of comments) if (c.line !== null) map.set(c.line, [...(map.get(c.line) ?? []), c])
    return map
  }, [comments])
  const anchored = [...new Set([...byLine.keys(), ...(openLine === null ? [] : [openLine])])].sort((a, b) => a - b)
  const anchoredKey = anchored.join(',')

  useLayoutEffect(() => {
    const made = new Map<number, HTMLElement>()
    const removals: Array<() => void> = []
    for (const line of anchoredKey ? anchoredKey.split(',').map(Number) : []) {
      const at = rows.get(line)
      if (!at) continue
      const { slot, remove } = openSlot(at)
      made.set(line, slot)
      removals.push(remove)
    }
    // Most files have no comment: leaving the empty state as it is spares each a second render.
    setSlots((before) => (made.size === 0 && before.size === 0 ? before : made))
    return () => removals.forEach((remove) => remove())
  }, [rows, anchoredKey])

  // Comments whose line the table does not show (outside git's context, or the table not
  // shown at all) are listed under the file; a file about to render waits for its table.
  const waiting = file.patch !== null && !(large && !asked) && markup === null
  const elsewhere = waiting ? [] : comments.filter((c) => c.line === null || !rows.has(c.line))
  const estimate = Math.min(changed || 3, LARGE_FILE_LINES) * LINE_PX * (file.patch ? 1.3 : 0)

  return (
    <section ref={sectionRef} id={anchorId} aria-labelledby={`${anchorId}-name`} className="review-file scroll-mt-4 rounded-md border border-border bg-surface">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-1 border-b border-border px-3 py-2">
        <h3 id={`${anchorId}-name`} className="min-w-0 break-all font-mono text-sm font-semibold">
          {file.status === 'renamed' ? `${file.old_path} → ${file.path}` : file.path}
        </h3>
        <span className="text-xs text-muted">{STATUS[file.status]}</span>
        <span className="ml-auto font-mono text-xs" aria-label={file.additions === null ? 'lines not counted' : `${file.additions} added, ${file.deletions} deleted`}>
          {file.binary ? 'binary' : file.additions === null ? 'not counted' : (
            <>
              <span className="text-success">+{file.additions}</span> <span className="text-danger">−{file.deletions}</span>
            </>
          )}
        </span>
      </header>
      {file.patch === null ? (
        <p className="px-3 py-2 text-sm text-muted">
          {file.binary ? 'A binary file: there are no lines to show.' : file.patch_truncated_reason ? TRUNCATION_REASONS[file.patch_truncated_reason] : 'No lines changed (a mode or rename only).'}{' '}
          The raw diff or the ZIP has it in full.
        </p>
      ) : large && !asked ? (
        <div className="px-3 py-3">
          <Button variant="secondary" size="sm" onClick={() => setAsked(true)}>
            Show this large change ({changed.toLocaleString('en-GB')} lines)
          </Button>
        </div>
      ) : (
        <>
          {markup === null && <div aria-hidden="true" style={{ height: estimate }} />}
          <div
            ref={bodyRef}
            className="review-diff-body"
            // diff2html's output and nothing else: it escapes the candidate's text. React sets it
            // again only when it changes, so the buttons and rows added to it stay.
            dangerouslySetInnerHTML={markup === null ? undefined : { __html: markup }}
            onClick={(e) => {
              const button = (e.target as HTMLElement).closest<HTMLButtonElement>('button.review-line-button')
              if (button) setOpenLine(Number(button.dataset['line']))
            }}
          />
        </>
      )}
      {[...slots].map(([line, slot]) =>
        createPortal(
          <div className="flex flex-col gap-2 p-2">
            {byLine.get(line) && <CommentList comments={byLine.get(line)!} />}
            {openLine === line && canComment && (
              <CommentForm
                invitationId={invitationId}
                path={file.path}
                line={line}
                label={`Comment on line ${line} of ${file.path}`}
                onDone={() => setOpenLine(null)}
              />
            )}
          </div>,
          slot,
          String(line),
        ),
      )}
      {elsewhere.length > 0 && (
        <div className="border-t border-border px-3 py-2">
          <p className="mb-1 text-xs text-muted">Comments on lines this diff does not show</p>
          <CommentList comments={elsewhere} />
        </div>
      )}
    </section>
  )
}
