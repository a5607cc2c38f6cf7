import type { Metadata } from 'next'
import { Mailbox } from '../../../features/mailbox/mailbox'

export const metadata: Metadata = { title: 'Mailbox' }

export default function MailboxPage() {
  return <Mailbox />
}
