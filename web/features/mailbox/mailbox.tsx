'use client'

import { useQuery } from '@tanstack/react-query'
import { apiFetch } from '../../lib/console-api'
import { Badge } from '../../components/ui/badge'
import { Card } from '../../components/ui/card'
import { LoadingRows } from '../../components/ui/skeleton'
import { formatWhen } from '../console/format'
import { EmptyState, ErrorState, PageHeader } from '../console/states'
import { EmailVersions } from '../console/email-versions'

/** One message of GET /api/mail. */
interface MailMessage {
  id: string
  kind: string
  to: string
  subject: string
  text: string
  html: string
  created_at: string
}

/** One email of the mailbox, as its recipient would see it. */
function Message({ message }: { message: MailMessage }) {
  return (
    <Card aria-labelledby={`mail-${message.id}`}>
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0">
          <h2 id={`mail-${message.id}`} className="font-semibold break-words">
            {message.subject}
          </h2>
          <p className="text-sm break-all text-muted">To {message.to}</p>
        </div>
        <div className="flex items-center gap-2 text-sm text-muted">
          <Badge>{message.kind.replaceAll('_', ' ')}</Badge>
          <time dateTime={message.created_at}>{formatWhen(message.created_at)}</time>
        </div>
      </div>
      <EmailVersions html={message.html} text={message.text} name={`“${message.subject}”`} className="mt-3" />
    </Card>
  )
}

export function Mailbox() {
  const mail = useQuery({
    queryKey: ['mail'],
    queryFn: ({ signal }) => apiFetch<{ messages: MailMessage[] }>('/api/mail', { signal }),
    // New mail arrives as the job system sends it.
    refetchInterval: 5_000,
  })
  const messages = mail.data && [...mail.data.messages].sort((a, b) => b.created_at.localeCompare(a.created_at))
  return (
    <>
      <PageHeader title="Mailbox" description="Every email Takehome has sent from this server, newest first." />
      {mail.isPending ? (
        <LoadingRows label="Loading the mailbox…" />
      ) : mail.isError ? (
        <ErrorState error={mail.error} retry={() => void mail.refetch()} what="the mailbox" />
      ) : messages!.length === 0 ? (
        <EmptyState title="No email yet">
          This is the local mailbox of the embedded default: with no email provider set up, Takehome keeps the emails it
          would send here instead. Invite a candidate and their invitation, with its start link, shows up on this page.
        </EmptyState>
      ) : (
        <div className="space-y-4">
          {messages!.map((m) => (
            <Message key={m.id} message={m} />
          ))}
        </div>
      )}
    </>
  )
}
