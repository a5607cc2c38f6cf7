import type { Metadata } from 'next'
import type { ReactNode } from 'react'
import { demoteHeadings, formatUtc, humaniseDuration, shortSha } from '../../../features/start/format'
import { getStart, type StartView } from '../../../features/start/get-start'
import { GitInstructions } from '../../../features/start/git-instructions'
import { StartForm } from '../../../features/start/start-form'
import { StatusBadge, StatusNotice } from '../../../features/start/status'
import { SubmitForm } from '../../../features/start/submit-form'
import { TimeLeft } from '../../../features/start/time-left'

// Every visit must reflect the invitation's current state, and the token is per candidate.
export const dynamic = 'force-dynamic'

// The URL holds the candidate's secret: never send it onward as a Referer, never index it.
export const metadata: Metadata = {
  title: 'Your assessment',
  referrer: 'no-referrer',
  robots: { index: false, follow: false },
}

export default async function StartPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params
  const result = await getStart(token)

  switch (result.kind) {
    case 'not_found':
      // Inline rather than notFound(): Next 16 does not server-render not-found.tsx for a
      // dynamic route (vercel/next.js#62228), leaving a blank page until JavaScript runs.
      return (
        <Problem title="This invitation link does not work">
          <p>
            The link may be incomplete or mistyped. Open it again from your invitation email, making sure you use the
            whole link.
          </p>
          <p>If it still does not work, contact the person who invited you.</p>
        </Problem>
      )
    case 'rate_limited':
      return (
        <Problem title="Too many attempts">
          <p>
            Please wait {result.retryAfterSeconds ? `${result.retryAfterSeconds} seconds` : 'a minute'}, then reload
            this page.
          </p>
        </Problem>
      )
    case 'unavailable':
      return (
        <Problem title="We could not load your invitation">
          <p>The service is not responding right now. Your link is still valid: please try again in a few minutes.</p>
        </Problem>
      )
    case 'ok':
      return <Invitation view={result.view} token={token} />
  }
}

function Problem({ title, children }: { title: string; children: ReactNode }) {
  return (
    <article className="card" aria-labelledby="problem-title">
      <h1 id="problem-title">{title}</h1>
      {children}
    </article>
  )
}

function Invitation({ view, token }: { view: StartView; token: string }) {
  const { assessment, status } = view
  const startable = status === 'sent' || status === 'accepted'
  const started = view.started_at !== null
  const duration = humaniseDuration(assessment.time_to_complete)
  // Rendered once per request; the countdown then keeps itself current in the browser.
  const renderedAt = Date.now()

  return (
    <article className="card" aria-labelledby="assessment-title">
      <p className="eyebrow">Take-home assessment</p>
      <h1 id="assessment-title">{assessment.title}</h1>
      <StatusBadge status={status} />
      {startable && view.candidate_name && (
        <p>Hi {view.candidate_name}, you have been invited to complete this assessment.</p>
      )}
      {assessment.description && <p className="lead">{assessment.description}</p>}

      <StatusNotice status={status} started={started} />

      {status !== 'revoked' && (
        <dl className="facts">
          {!started && (
            <Fact term={status === 'expired' ? 'Start deadline was' : 'Start by'}>
              <time dateTime={view.start_deadline}>{formatUtc(view.start_deadline)}</time>
            </Fact>
          )}
          {!started && (
            <Fact term="Time to complete">
              {duration}
              {startable && ' from when you start'}
            </Fact>
          )}
          {view.complete_deadline && status !== 'submitted' && (
            <Fact term={status === 'started' ? 'Complete by' : 'Deadline was'}>
              <time dateTime={view.complete_deadline}>{formatUtc(view.complete_deadline)}</time>
            </Fact>
          )}
          {status === 'started' && view.complete_deadline && (
            <Fact term="Time left">
              <TimeLeft deadline={view.complete_deadline} renderedAt={renderedAt} />
            </Fact>
          )}
          {view.submitted_at && (
            <Fact term="Submitted">
              <time dateTime={view.submitted_at}>{formatUtc(view.submitted_at)}</time>
            </Fact>
          )}
          {view.final_sha && (
            <Fact term="Final commit">
              <code className="sha" title={view.final_sha}>
                {shortSha(view.final_sha)}
              </code>
            </Fact>
          )}
        </dl>
      )}

      {/* Each form stays mounted while its action can still answer, so that a refusal's
          message outlives the re-render showing the new status: keep these slots stable. */}
      {!started && (
        <StartForm
          token={token}
          startable={startable}
          note={`Starting creates your own private git repository and starts the clock: you then have ${duration} to complete the assessment.`}
        />
      )}

      {status === 'started' && view.git && view.complete_deadline && (
        <GitInstructions git={view.git} completeDeadline={view.complete_deadline} />
      )}
      {status === 'started' && !view.git && (
        <div className="notice notice-info">
          <p>
            <strong>Your repository is being prepared.</strong> Reload this page in a moment to see how to clone it.
          </p>
        </div>
      )}

      {status !== 'revoked' && assessment.instructions_html.trim() !== '' && (
        <section aria-labelledby="instructions-title">
          <h2 id="instructions-title">Instructions</h2>
          {/* Safe to inject: the API renders this markdown with raw HTML disabled, so it
              contains only the markup markdown itself produces, never the author's HTML.
              Its headings move below this section's h2 to keep the outline in order. */}
          <div className="prose" dangerouslySetInnerHTML={{ __html: demoteHeadings(assessment.instructions_html, 2) }} />
        </section>
      )}

      {started && status !== 'submitted' && <SubmitForm token={token} open={status === 'started'} />}
    </article>
  )
}

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  )
}
