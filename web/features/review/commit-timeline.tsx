'use client'

import { shortSha } from '../console/format'
import { When } from '../console/when'
import type { Commits } from './review-api'

/** The candidate's commits, oldest first as the work went, with GitHub's record of when each push arrived. */
export function CommitTimeline({ log }: { log: Commits }) {
  if (log.commits.length === 0) {
    return <p className="text-muted">No commits after the base commit{log.in_progress ? ' yet' : ''}.</p>
  }
  return (
    <div className="flex flex-col gap-3">
      <ol className="flex flex-col border-l-2 border-border pl-4">
        {[...log.commits].reverse().map((c) => (
          <li key={c.sha} className="relative py-1.5">
            <span aria-hidden="true" className="absolute top-3.5 -left-[1.4rem] h-2.5 w-2.5 rounded-full bg-primary" />
            <p className="break-words font-semibold">{c.message.split('\n')[0]}</p>
            <p className="text-sm text-muted">
              <code title={c.sha}>{shortSha(c.sha)}</code> · {c.author_name} · <When iso={c.authored_at} />
            </p>
          </li>
        ))}
      </ol>
      {log.pushes.length > 0 && (
        <details className="text-sm">
          <summary className="cursor-pointer">Pushes as GitHub received them ({log.pushes.length})</summary>
          <ul className="mt-2 flex flex-col gap-1">
            {log.pushes.map((p) => (
              <li key={`${p.received_at}-${p.after}`}>
                <When iso={p.received_at} />: {p.commit_count} {p.commit_count === 1 ? 'commit' : 'commits'} to{' '}
                <code>{p.ref.replace(/^refs\/heads\//, '')}</code>, now <code title={p.after}>{shortSha(p.after)}</code>
                {p.forced && <strong> (forced)</strong>}
              </li>
            ))}
          </ul>
        </details>
      )}
      <p className="text-xs text-muted">Commit dates are the candidate’s own to set{log.pushes.length > 0 ? '; the pushes’ times are GitHub’s' : ''}.</p>
    </div>
  )
}
