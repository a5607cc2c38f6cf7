import { Badge } from '../../components/ui/badge'

export const STATUSES = ['sent', 'accepted', 'started', 'submitted', 'expired', 'revoked'] as const
export type InvitationStatus = (typeof STATUSES)[number]

const TONES = {
  sent: 'info',
  accepted: 'info',
  started: 'progress',
  submitted: 'success',
  expired: 'warning',
  revoked: 'neutral',
} as const

export const STATUS_LABELS: Record<InvitationStatus, string> = {
  sent: 'Sent',
  accepted: 'Opened',
  started: 'Started',
  submitted: 'Submitted',
  expired: 'Expired',
  revoked: 'Revoked',
}

export function StatusBadge({ status }: { status: string }) {
  const known = (STATUSES as readonly string[]).includes(status) ? (status as InvitationStatus) : undefined
  return <Badge tone={known ? TONES[known] : 'neutral'}>{known ? STATUS_LABELS[known] : status}</Badge>
}
