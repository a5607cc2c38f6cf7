'use client'

import { Download, Eye, Pencil } from 'lucide-react'
import Link from 'next/link'
import { useParams } from 'next/navigation'
import { useState } from 'react'
import { DownloadLink } from '../../components/download-link'
import { Button } from '../../components/ui/button'
import { Card, CardHeader, CardTitle } from '../../components/ui/card'
import { LoadingRows } from '../../components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '../../components/ui/table'
import { useAssessment } from '../assessments/api'
import { formatSeconds, formatWhen, shortSha } from '../console/format'
import { canManage, canReview, useRole } from '../console/session'
import { EmptyState, ErrorState, PageHeader } from '../console/states'
import { humaniseDuration } from '../start/format'
import { type CreatedInvitation, useInvitations } from './api'
import { InviteForm } from './invite-form'
import { RowActions } from './row-actions'
import { StatusBadge } from './status'

function Invitations({ assessmentId, startUrls }: { assessmentId: string; startUrls: Map<string, string> }) {
  const role = useRole()!
  const invitations = useInvitations(assessmentId)
  return (
    <Card aria-labelledby="invitations-title">
      <CardHeader>
        <CardTitle id="invitations-title">Invitations</CardTitle>
        <Button variant="secondary" size="sm" asChild>
          <DownloadLink href={`/api/assessments/${assessmentId}/invitations.csv`}>
            <Download aria-hidden /> Export CSV
          </DownloadLink>
        </Button>
      </CardHeader>
      {invitations.isPending ? (
        <LoadingRows label="Loading invitations…" />
      ) : invitations.isError ? (
        <ErrorState error={invitations.error} retry={() => void invitations.refetch()} what="the invitations" />
      ) : invitations.data.invitations.length === 0 ? (
        <EmptyState title="Nobody invited yet">{canManage(role) && 'Paste candidates’ emails above to invite them.'}</EmptyState>
      ) : (
        <Table>
          <TableHead>
            <TableRow>
              <TableHeader>Candidate</TableHeader>
              <TableHeader>Status</TableHeader>
              <TableHeader>Start deadline</TableHeader>
              <TableHeader>Complete deadline</TableHeader>
              <TableHeader>Time taken</TableHeader>
              <TableHeader>Final SHA</TableHeader>
              <TableHeader>
                <span className="sr-only">Actions</span>
              </TableHeader>
            </TableRow>
          </TableHead>
          <TableBody>
            {invitations.data.invitations.map((row) => (
              <TableRow key={row.id}>
                <TableCell className="min-w-40">
                  {row.candidate_name && <span className="block font-medium">{row.candidate_name}</span>}
                  <span className="break-all">{row.candidate_email}</span>
                </TableCell>
                <TableCell>
                  <StatusBadge status={row.status} />
                </TableCell>
                <TableCell className="whitespace-nowrap">{formatWhen(row.start_deadline)}</TableCell>
                <TableCell className="whitespace-nowrap">{formatWhen(row.complete_deadline)}</TableCell>
                <TableCell className="whitespace-nowrap">{formatSeconds(row.time_taken_seconds)}</TableCell>
                <TableCell>
                  {row.final_sha && canReview(role) ? (
                    <Link href={`/review/${row.id}`} title={row.final_sha}>
                      <code>{shortSha(row.final_sha)}</code>
                    </Link>
                  ) : (
                    <code title={row.final_sha ?? undefined}>{shortSha(row.final_sha)}</code>
                  )}
                </TableCell>
                <TableCell className="text-right">
                  <RowActions row={row} role={role} startUrl={startUrls.get(row.id)} />
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </Card>
  )
}

/** An assessment with its invitations: invite in bulk, follow each candidate, act on each row. */
export function AssessmentDetail() {
  const { id } = useParams<{ id: string }>()
  const role = useRole()
  const assessment = useAssessment(id)
  // The API gives a start link only in the answer that created it: kept for this visit.
  const [startUrls, setStartUrls] = useState(() => new Map<string, string>())
  const remember = (created: CreatedInvitation[]) =>
    setStartUrls((current) => new Map([...current, ...created.map((c) => [c.id, c.start_url] as const)]))

  if (assessment.isPending) return <LoadingRows label="Loading the assessment…" rows={6} />
  if (assessment.isError) return <ErrorState error={assessment.error} retry={() => void assessment.refetch()} what="the assessment" />
  const a = assessment.data
  return (
    <>
      <PageHeader
        title={a.title}
        description={`${humaniseDuration(a.time_to_start)} to start, then ${humaniseDuration(a.time_to_complete)} to complete.`}
        actions={
          <>
            <Button variant="secondary" asChild>
              <Link href={`/assessments/${id}/preview`}>
                <Eye aria-hidden /> Preview start page
              </Link>
            </Button>
            {canManage(role) && (
              <Button variant="secondary" asChild>
                <Link href={`/assessments/${id}/edit`}>
                  <Pencil aria-hidden /> Edit
                </Link>
              </Button>
            )}
          </>
        }
      />
      {a.description && <p className="mb-5 max-w-prose text-sm">{a.description}</p>}
      <div className="space-y-5">
        {canManage(role) && <InviteForm assessmentId={id} onInvited={remember} />}
        <Invitations assessmentId={id} startUrls={startUrls} />
      </div>
    </>
  )
}
