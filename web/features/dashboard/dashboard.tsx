'use client'

import { useQuery } from '@tanstack/react-query'
import Link from 'next/link'
import { apiFetch } from '../../lib/console-api'
import { Card, CardDescription, CardHeader, CardTitle } from '../../components/ui/card'
import { LoadingRows } from '../../components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '../../components/ui/table'
import { formatRelative, formatWhen, shortSha } from '../console/format'
import { EmptyState, ErrorState, PageHeader } from '../console/states'
import { NewAssessmentButton } from '../assessments/assessments'
import { STATUSES, STATUS_LABELS, StatusBadge } from '../invitations/status'

interface Candidate {
  invitation_id: string
  assessment_id: string
  assessment_title: string
  candidate_email: string
  candidate_name: string | null
  status: string
}

/** GET /api/dashboard. */
interface Overview {
  now: string
  window_hours: number
  assessments: Array<{ id: string; title: string; counts: Record<(typeof STATUSES)[number], number> }>
  deadlines: Array<Candidate & { deadline: 'start' | 'complete'; at: string }>
  awaiting_review: Array<Candidate & { final_sha: string; ended_at: string }>
}

const who = (c: Candidate) => c.candidate_name ?? c.candidate_email

export function Dashboard() {
  const overview = useQuery({ queryKey: ['dashboard'], queryFn: ({ signal }) => apiFetch<Overview>('/api/dashboard', { signal }) })
  return (
    <>
      <PageHeader
        title="Dashboard"
        actions={<NewAssessmentButton />}
      />
      {overview.isPending ? (
        <LoadingRows label="Loading the dashboard…" rows={5} />
      ) : overview.isError ? (
        <ErrorState error={overview.error} retry={() => void overview.refetch()} what="the dashboard" />
      ) : (
        <div className="grid grid-cols-1 gap-5 lg:grid-cols-2 [&>*]:min-w-0">
          <Card aria-labelledby="dash-assessments" className="lg:col-span-2">
            <CardHeader>
              <CardTitle id="dash-assessments">Assessments</CardTitle>
            </CardHeader>
            {overview.data.assessments.length === 0 ? (
              <EmptyState title="No assessments yet">
                Add a seed repository on the <Link href="/seeds">Seeds</Link> page, then create an assessment from it.
              </EmptyState>
            ) : (
              <Table>
                <TableHead>
                  <TableRow>
                    <TableHeader>Assessment</TableHeader>
                    {STATUSES.map((s) => (
                      <TableHeader key={s} className="text-right">
                        {STATUS_LABELS[s]}
                      </TableHeader>
                    ))}
                  </TableRow>
                </TableHead>
                <TableBody>
                  {overview.data.assessments.map((a) => (
                    <TableRow key={a.id}>
                      <TableCell>
                        <Link href={`/assessments/${a.id}`}>{a.title}</Link>
                      </TableCell>
                      {STATUSES.map((s) => (
                        <TableCell key={s} className="text-right tabular-nums">
                          {a.counts[s]}
                        </TableCell>
                      ))}
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            )}
          </Card>
          <Card aria-labelledby="dash-deadlines">
            <CardHeader>
              <CardTitle id="dash-deadlines">Deadlines in the next {overview.data.window_hours} hours</CardTitle>
            </CardHeader>
            {overview.data.deadlines.length === 0 ? (
              <EmptyState title="Nothing due soon" />
            ) : (
              <ul className="divide-y divide-border">
                {overview.data.deadlines.map((d) => (
                  <li key={`${d.invitation_id}-${d.deadline}`} className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
                    <span className="min-w-0">
                      <span className="font-medium break-all">{who(d)}</span>
                      <span className="block text-muted">
                        {d.deadline === 'start' ? 'must start' : 'must submit'} ·{' '}
                        <Link href={`/assessments/${d.assessment_id}`}>{d.assessment_title}</Link>
                      </span>
                    </span>
                    <time dateTime={d.at} title={formatWhen(d.at)} className="tabular-nums">
                      {formatRelative(d.at, Date.parse(overview.data.now))}
                    </time>
                  </li>
                ))}
              </ul>
            )}
          </Card>
          <Card aria-labelledby="dash-review">
            <CardHeader>
              <CardTitle id="dash-review">Waiting for review</CardTitle>
              <CardDescription>Submitted work with no feedback yet, longest waiting first.</CardDescription>
            </CardHeader>
            {overview.data.awaiting_review.length === 0 ? (
              <EmptyState title="Nothing to review" />
            ) : (
              <ul className="divide-y divide-border">
                {overview.data.awaiting_review.map((r) => (
                  <li key={r.invitation_id} className="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
                    <span className="min-w-0">
                      <Link href={`/review/${r.invitation_id}`} className="font-medium break-all">
                        {who(r)}
                      </Link>
                      <span className="block text-muted">
                        {r.assessment_title} · <StatusBadge status={r.status} /> <code>{shortSha(r.final_sha)}</code>
                      </span>
                    </span>
                    <time dateTime={r.ended_at} className="text-muted">
                      {formatWhen(r.ended_at)}
                    </time>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </div>
      )}
    </>
  )
}
