'use client'

import Link from 'next/link'
import { useParams } from 'next/navigation'
import { Alert } from '../../components/ui/alert'
import { Button } from '../../components/ui/button'
import { LoadingRows } from '../../components/ui/skeleton'
import { ErrorState, PageHeader } from '../console/states'
import { demoteHeadings, humaniseDuration } from '../start/format'
import { useAssessment } from './api'
import { renderMarkdown } from './markdown'

/**
 * What a candidate sees when they open their start link, before pressing Start, drawn with
 * the start page's own styles. Deadlines depend on when each is invited, so they are
 * described rather than dated.
 */
export function StartPagePreview() {
  const { id } = useParams<{ id: string }>()
  const assessment = useAssessment(id)
  return (
    <>
      <PageHeader
        title="Preview of the start page"
        description="What a candidate sees when they open their invitation link."
        actions={
          <Button variant="secondary" asChild>
            <Link href={`/assessments/${id}`}>Back to the assessment</Link>
          </Button>
        }
      />
      {assessment.isPending ? (
        <LoadingRows label="Loading the assessment…" rows={6} />
      ) : assessment.isError ? (
        <ErrorState error={assessment.error} retry={() => void assessment.refetch()} what="the assessment" />
      ) : (
        <div className="mx-auto max-w-[46rem] text-[1.0625rem] leading-relaxed [&_h1]:mb-2 [&_h1]:text-3xl [&_h1]:font-bold [&_h2]:mt-8 [&_h2]:mb-2 [&_h2]:text-xl [&_h2]:font-bold [&_p]:mb-4">
          <Alert tone="info" className="mb-4">
            This is a preview: the Start button does nothing here.
          </Alert>
          <article className="card" aria-labelledby="preview-title">
            <p className="eyebrow">Take-home assessment</p>
            <h1 id="preview-title">{assessment.data.title}</h1>
            {assessment.data.description && <p className="lead">{assessment.data.description}</p>}
            <dl className="facts">
              <div>
                <dt>Start by</dt>
                <dd>{humaniseDuration(assessment.data.time_to_start)} after the invitation is sent</dd>
              </div>
              <div>
                <dt>Time to complete</dt>
                <dd>{humaniseDuration(assessment.data.time_to_complete)} from when you start</dd>
              </div>
            </dl>
            {assessment.data.instructions && (
              <section aria-labelledby="preview-instructions-title">
                <h2 id="preview-instructions-title">Instructions</h2>
                <div
                  className="prose"
                  // markdown-it with raw HTML off, as the start page renders them.
                  dangerouslySetInnerHTML={{ __html: demoteHeadings(renderMarkdown(assessment.data.instructions), 2) }}
                />
              </section>
            )}
            <Button disabled className="mt-4">
              Start the assessment
            </Button>
          </article>
        </div>
      )}
    </>
  )
}
