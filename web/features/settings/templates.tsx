'use client'

import Link from 'next/link'
import { useParams } from 'next/navigation'
import { Badge } from '../../components/ui/badge'
import { Button } from '../../components/ui/button'
import { Card } from '../../components/ui/card'
import { LoadingRows } from '../../components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '../../components/ui/table'
import { formatWhen } from '../console/format'
import { canManage, useRole } from '../console/session'
import { EmptyState, ErrorState, PageHeader } from '../console/states'
import { kindLabel, useTemplate, useTemplates } from './api'
import { TemplateForm } from './template-form'

export function TemplateList() {
  const role = useRole()
  const templates = useTemplates()
  return (
    <>
      <PageHeader
        title="Email templates"
        description="The invitations, reminders and follow-ups your candidates get. Without a template of a kind, Takehome's own text is sent."
        actions={
          canManage(role) && (
            <Button asChild>
              <Link href="/settings/templates/new">New template</Link>
            </Button>
          )
        }
      />
      {templates.isPending ? (
        <LoadingRows label="Loading the templates…" />
      ) : templates.isError ? (
        <ErrorState error={templates.error} retry={() => void templates.refetch()} what="the templates" />
      ) : templates.data.length === 0 ? (
        <EmptyState title="No templates yet">
          Candidates get Takehome&apos;s own texts.{' '}
          {canManage(role) && <Link href="/settings/templates/new">Write your own.</Link>}
        </EmptyState>
      ) : (
        <Card aria-label="Email templates">
          <Table>
            <TableHead>
              <TableRow>
                <TableHeader>Name</TableHeader>
                <TableHeader>Kind</TableHeader>
                <TableHeader>Subject</TableHeader>
                <TableHeader>Updated</TableHeader>
              </TableRow>
            </TableHead>
            <TableBody>
              {templates.data.map((t) => (
                <TableRow key={t.id}>
                  <TableCell className="font-medium break-words">
                    <Link href={`/settings/templates/${t.id}`}>{t.name}</Link>
                  </TableCell>
                  <TableCell className="whitespace-nowrap">
                    {kindLabel(t.kind)} {t.is_default && <Badge tone="info">Default</Badge>}
                  </TableCell>
                  <TableCell className="max-w-80 min-w-40 break-words">{t.subject}</TableCell>
                  <TableCell className="whitespace-nowrap">{formatWhen(t.updated_at)}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Card>
      )}
    </>
  )
}

export function NewTemplate() {
  return (
    <>
      <PageHeader title="New email template" />
      <TemplateForm />
    </>
  )
}

export function EditTemplate() {
  const { id } = useParams<{ id: string }>()
  const role = useRole()
  const template = useTemplate(id)
  const manage = canManage(role)
  const name = template.data?.name
  return (
    <>
      <PageHeader
        title={name ? (manage ? `Edit “${name}”` : `“${name}”`) : 'Email template'}
        description={manage ? undefined : 'Only owners and admins change templates.'}
      />
      {template.isPending ? (
        <LoadingRows label="Loading the template…" rows={6} />
      ) : template.isError ? (
        <ErrorState error={template.error} retry={() => void template.refetch()} what="the template" />
      ) : (
        <TemplateForm template={template.data} readOnly={!manage} />
      )}
    </>
  )
}
