'use client'

import type { ReactNode } from 'react'
import { DownloadLink } from '../../components/download-link'
import { Button } from '../../components/ui/button'
import { CopyButton } from '../console/copy-button'
import { formatSeconds, shortSha } from '../console/format'
import { When } from '../console/when'
import type { InvitationDetail } from './review-api'

function Sha({ label, sha }: { label: string; sha: string | null }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-muted">{label}</dt>
      <dd className="flex items-center gap-2">
        {sha === null ? (
          <span className="text-muted">not yet</span>
        ) : (
          <>
            <code title={sha}>{shortSha(sha)}</code>
            <CopyButton text={sha} label={label} />
          </>
        )}
      </dd>
    </div>
  )
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-muted">{label}</dt>
      <dd className="break-words">{children}</dd>
    </div>
  )
}

const when = (iso: string | null) => (iso ? <When iso={iso} /> : <span className="text-muted">not yet</span>)

export function ReviewHeader({ invitation, title, compareUrl }: { invitation: InvitationDetail; title: string | undefined; compareUrl: string | null }) {
  const { repo } = invitation
  return (
    <header className="flex flex-col gap-3">
      <div>
        {title && <p className="text-sm font-semibold uppercase tracking-wide text-muted">{title}</p>}
        <h1 className="text-2xl font-bold break-words">{invitation.candidate_name ?? invitation.candidate_email}</h1>
        <p className="break-all text-muted">
          <a href={`mailto:${invitation.candidate_email}`}>{invitation.candidate_email}</a> · {invitation.status}
        </p>
      </div>
      <dl className="grid grid-cols-[repeat(auto-fit,minmax(10rem,1fr))] gap-3 rounded-md border border-border bg-surface p-3">
        <Fact label="Repository">
          {repo ? repo.html_url ? <a href={repo.html_url}>{repo.slug}</a> : <code>{repo.slug}</code> : <span className="text-muted">none: not started</span>}
        </Fact>
        {repo && <Sha label="Pinned seed SHA" sha={repo.seed_sha_pinned} />}
        {repo && <Sha label="Base SHA" sha={repo.base_sha} />}
        {repo && <Sha label="Final SHA" sha={repo.final_sha} />}
        <Fact label="Started">{when(invitation.started_at)}</Fact>
        <Fact label="Submitted">{when(invitation.submitted_at)}</Fact>
        <Fact label="Time taken">
          {invitation.time_taken_seconds === null ? <span className="text-muted">still working or not started</span> : formatSeconds(invitation.time_taken_seconds)}
        </Fact>
      </dl>
      <div className="flex flex-wrap gap-3 text-sm">
        {compareUrl && <a href={compareUrl}>Compare on GitHub</a>}
        {repo?.final_sha && (
          <Button asChild variant="secondary" size="sm">
            <DownloadLink href={`/api/invitations/${invitation.id}/archive.zip`}>Download ZIP</DownloadLink>
          </Button>
        )}
      </div>
    </header>
  )
}
