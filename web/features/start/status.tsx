import type { InvitationStatus } from './get-start'

const LABELS: Record<InvitationStatus, { text: string; tone: string }> = {
  sent: { text: 'Not started', tone: 'info' },
  accepted: { text: 'Not started', tone: 'info' },
  started: { text: 'In progress', tone: 'progress' },
  submitted: { text: 'Submitted', tone: 'success' },
  expired: { text: 'Expired', tone: 'warning' },
  revoked: { text: 'Withdrawn', tone: 'danger' },
}

// The word carries the meaning; the colour only repeats it.
export function StatusBadge({ status }: { status: InvitationStatus }) {
  const { text, tone } = LABELS[status]
  return (
    <p className="status">
      <span className="visually-hidden">Status: </span>
      <span className={`badge badge-${tone}`}>{text}</span>
    </p>
  )
}

export function StatusNotice({ status, started }: { status: InvitationStatus; started: boolean }) {
  switch (status) {
    case 'expired':
      if (started) {
        return (
          <div className="notice notice-warning">
            <p>
              <strong>The time to complete has passed.</strong> Your repository is closed to pushes; the work you pushed
              before the deadline is kept for review.
            </p>
          </div>
        )
      }
      return (
        <div className="notice notice-warning">
          <p>
            <strong>The time to start has passed.</strong> This assessment can no longer be started. If you think this is
            a mistake, contact the person who invited you.
          </p>
        </div>
      )
    case 'revoked':
      return (
        <div className="notice notice-danger">
          <p>
            <strong>This invitation was withdrawn.</strong>{' '}
            {started ? 'Your repository is closed to pushes.' : 'It can no longer be started.'} If you have questions,
            contact the person who invited you.
          </p>
        </div>
      )
    case 'submitted':
      return (
        <div className="notice notice-success">
          <p>
            <strong>You have submitted this assessment.</strong> Thank you: there is nothing more to do here.
          </p>
        </div>
      )
    case 'started':
      return (
        <div className="notice notice-info">
          <p>
            <strong>You have started this assessment.</strong> Push your work and submit it before the deadline.
          </p>
        </div>
      )
    case 'sent':
    case 'accepted':
      return null
  }
}
