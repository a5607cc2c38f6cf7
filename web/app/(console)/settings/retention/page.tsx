import type { Metadata } from 'next'
import { AuditRetention } from '../../../../features/settings/audit-retention'

export const metadata: Metadata = { title: 'Data retention' }

export default function RetentionPage() {
  return <AuditRetention />
}
