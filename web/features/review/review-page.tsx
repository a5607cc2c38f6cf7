'use client'

import type { ReactNode } from 'react'
import { ApiError } from '../../lib/console-api'
import { CommentForm, CommentList } from './comment-thread'
import { CommitTimeline } from './commit-timeline'
import { DiffView } from './diff-view'
import { FeedbackPanel } from './feedback-form'
import { FollowUpPanel } from './follow-up'
import { ReviewHeader } from './review-header'
import { canReview as mayReview, useRole } from '../console/session'
import { ErrorState } from '../console/states'
import { type Diff, type InvitationDetail, useAssessmentTitle, useCommits, useDiff, useInvitation } from './review-api'
import './review.css'

function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="flex items-center gap-2 text-muted">
      <span aria-hidden="true" className="spinner" /> Loading {what}…
    </p>
  )
}

function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section aria-labelledby={id} className="flex min-w-0 flex-col gap-3">
      <h2 id={id} className="text-xl font-semibold">
        {title}
      </h2>
      {children}
    </section>
  )
}

const notStarted = (error: unknown) => error instanceof ApiError && error.code === 'not_started'

/**
 * Everything a reviewer needs about one submission, on one page. The invitation, the diff
 * and the commits are asked for at once, by the invitation's id, and each part is drawn as
 * its answer arrives: the diff does not wait for the invitation.
 */
export function ReviewPage({ invitationId, initial }: { invitationId: string; initial?: { invitation?: InvitationDetail; diff?: Diff } }) {
  const invitation = useInvitation(invitationId, initial?.invitation)
  const diff = useDiff(invitationId, initial?.diff)
  const commits = useCommits(invitationId)
  const title = useAssessmentTitle(invitation.data?.assessment_id)
  const canReview = mayReview(useRole())

  if (invitation.isError) {
    const missing = invitation.error instanceof ApiError && [404, 422].includes(invitation.error.status)
    return missing ? (
      <div className="flex flex-col gap-2">
        <h1 className="text-2xl font-bold">No such invitation</h1>
        <p>This link names no invitation of your organisation.</p>
      </div>
    ) : (
      <ErrorState what="the submission" error={invitation.error} retry={() => void invitation.refetch()} />
    )
  }
  const inv = invitation.data
  const comments = inv?.comments ?? []
  const general = comments.filter((c) => c.path === null || (diff.data !== undefined && !diff.data.files.some((f) => f.path === c.path)))
  const started = inv ? inv.repo !== null : !notStarted(diff.error)

  return (
    <div className="review-page flex min-w-0 flex-col gap-8">
      {inv ? (
        <ReviewHeader invitation={inv} title={title.data} compareUrl={diff.data?.compare_url ?? commits.data?.compare_url ?? null} />
      ) : (
        <Loading what="the submission" />
      )}
      {!started ? (
        <p className="rounded-md border border-border bg-surface p-4 text-muted">
          The candidate has not started: there is no repository, so nothing to review yet.
        </p>
      ) : (
        <>
          <Section id="review-commits" title="Commits">
            {commits.isPending ? <Loading what="the commits" /> : commits.isError ? <ErrorState what="the commits" error={commits.error} retry={() => void commits.refetch()} /> : <CommitTimeline log={commits.data} />}
          </Section>
          <Section id="review-changes" title="Changes">
            {diff.data?.in_progress && <p className="text-sm text-muted">The candidate is still working: this is their repository’s main branch as it is now.</p>}
            {diff.isPending ? (
              <Loading what="the diff" />
            ) : diff.isError ? (
              <ErrorState what="the diff" error={diff.error} retry={() => void diff.refetch()} />
            ) : (
              <DiffView diff={diff.data} comments={comments.filter((c) => c.path !== null)} canComment={canReview} invitationId={invitationId} />
            )}
          </Section>
        </>
      )}
      {inv && (
        <>
          <Section id="review-general" title="General comments">
            {general.length > 0 ? <CommentList comments={general} /> : <p className="text-muted">No general comments.</p>}
            {canReview && <CommentForm invitationId={inv.id} label="Add a general comment" />}
          </Section>
          <Section id="review-feedback" title="Feedback">
            <FeedbackPanel invitationId={inv.id} feedback={inv.feedback} canReview={canReview} />
          </Section>
          {canReview && (
            <Section id="review-follow-up" title="Send a follow-up">
              <FollowUpPanel invitationId={inv.id} candidate={inv.candidate_name ?? 'there'} email={inv.candidate_email} assessmentTitle={title.data} />
            </Section>
          )}
        </>
      )}
    </div>
  )
}
