'use client'

import Link from 'next/link'
import { useParams } from 'next/navigation'
import { Button } from '../../components/ui/button'
import { Card } from '../../components/ui/card'
import { LoadingRows } from '../../components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '../../components/ui/table'
import { formatWhen } from '../console/format'
import { canManage, useRole } from '../console/session'
import { EmptyState, ErrorState, PageHeader } from '../console/states'
import { humaniseDuration } from '../start/format'
import { useAssessment, useAssessments } from './api'
import { AssessmentForm } from './assessment-form'

/** The way to a new assessment, for those who may create one. */
export function NewAssessmentButton() {
  const role = useRole()
  if (!canManage(role)) return null
  return (
    <Button asChild>
      <Link href="/assessments/new">New assessment</Link>
    </Button>
  )
}

export function AssessmentList() {
  const role = useRole()
  const list = useAssessments()
  return (
    <>
      <PageHeader
        title="Assessments"
        actions={<NewAssessmentButton />}
      />
      {list.isPending ? (
        <LoadingRows label="Loading assessments…" />
      ) : list.isError ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} what="the assessments" />
      ) : list.data.assessments.length === 0 ? (
        <EmptyState title="No assessments yet">
          An assessment is a seed repository with instructions and deadlines.{' '}
          {canManage(role) && <Link href="/assessments/new">Create the first one.</Link>}
        </EmptyState>
      ) : (
        <Card aria-label="Assessments">
          <Table>
            <TableHead>
              <TableRow>
                <TableHeader>Title</TableHeader>
                <TableHeader>Time to start</TableHeader>
                <TableHeader>Time to complete</TableHeader>
                <TableHeader>Updated</TableHeader>
              </TableRow>
            </TableHead>
            <TableBody>
              {list.data.assessments.map((a) => (
                <TableRow key={a.id}>
                  <TableCell className="font-medium">
                    <Link href={`/assessments/${a.id}`}>{a.title}</Link>
                  </TableCell>
                  <TableCell>{humaniseDuration(a.time_to_start)}</TableCell>
                  <TableCell>{humaniseDuration(a.time_to_complete)}</TableCell>
                  <TableCell className="whitespace-nowrap">{formatWhen(a.updated_at)}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Card>
      )}
    </>
  )
}

export function NewAssessment() {
  return (
    <>
      <PageHeader title="New assessment" />
      <AssessmentForm />
    </>
  )
}

export function EditAssessment() {
  const { id } = useParams<{ id: string }>()
  const assessment = useAssessment(id)
  return (
    <>
      <PageHeader title={assessment.data ? `Edit “${assessment.data.title}”` : 'Edit assessment'} />
      {assessment.isPending ? (
        <LoadingRows label="Loading the assessment…" rows={6} />
      ) : assessment.isError ? (
        <ErrorState error={assessment.error} retry={() => void assessment.refetch()} what="the assessment" />
      ) : (
        <AssessmentForm assessment={assessment.data} />
      )}
    </>
  )
}
