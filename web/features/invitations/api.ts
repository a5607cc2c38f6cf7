'use client'

import { useQuery } from '@tanstack/react-query'
import { apiFetch } from '../../lib/console-api'

/** A row of GET /api/invitations?assessment_id=. */
export interface InvitationRow {
  id: string
  assessment_id: string
  candidate_email: string
  candidate_name: string | null
  status: string
  start_deadline: string
  complete_deadline: string | null
  sent_at: string
  started_at: string | null
  submitted_at: string | null
  final_sha: string | null
  time_taken_seconds: number | null
}

/** One invitation of POST /api/invitations: the start link is only ever in this answer. */
export interface CreatedInvitation {
  id: string
  candidate_email: string
  start_url: string
}

export const invitationsKey = (assessmentId: string) => ['invitations', assessmentId] as const

export const useInvitations = (assessmentId: string) =>
  useQuery({
    queryKey: invitationsKey(assessmentId),
    queryFn: ({ signal }) =>
      apiFetch<{ invitations: InvitationRow[] }>(`/api/invitations?assessment_id=${encodeURIComponent(assessmentId)}`, { signal }),
  })
