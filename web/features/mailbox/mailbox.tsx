'use client'

import { useQuery } from '@tanstack/react-query'
import { apiFetch } from '../../lib/console-api'
import { Badge } from '../../components/ui/badge'
import { Card } from '../../components/ui/card'
import { LoadingRows } from '../../components/ui/skeleton'
import { Tabs, TabsContent, TabsList, TabsTrigger } from '../../components/ui/tabs'
import { formatWhen } from '../console/format'
import { EmptyState, ErrorState, PageHeader } from '../console/states'

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

/**
 * One email as its recipient would see it. The HTML goes into a sandboxed frame with no
 * permissions at all (no scripts, no same origin, no forms), never into this page; the
 * text version is plain text.
 */
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
      <Tabs defaultValue={message.html ? 'html' : 'text'} className="mt-3">
        <TabsList aria-label={`Versions of “${message.subject}”`}>
          {message.html && <TabsTrigger value="html">Rendered</TabsTrigger>}
          <TabsTrigger value="text">Text</TabsTrigger>
        </TabsList>
        {message.html && (
          <TabsContent value="html">
            <iframe
              sandbox=""
              srcDoc={message.html}
              title={`Email: ${message.subject}`}
              className="h-80 w-full rounded-md border border-border bg-white"
            />
          </TabsContent>
        )}
        <TabsContent value="text">
          <pre className="max-h-80 overflow-auto rounded-md bg-background p-3 text-sm break-words whitespace-pre-wrap">{message.text}</pre>
        </TabsContent>
      </Tabs>
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
