'use client'

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { apiFetch } from '../../lib/console-api'
import { reviewUrls } from './review-urls'

/** The API's answers this page reads, as DESIGN section 7 and the OpenAPI document give them. */
export interface Comment {
  id: string
  path: string | null
  line: number | null
  body: string
  created_by: string | null
  created_at: string
}

export interface Feedback {
  id: string
  summary: string | null
  rating: number | null
  created_by: string | null
  created_at: string
}

export interface InvitationDetail {
  id: string
  assessment_id: string
  candidate_email: string
  candidate_name: string | null
  status: string
  started_at: string | null
  submitted_at: string | null
  expired_at: string | null
  revoked_at: string | null
  /** From Start to whichever ended the work, as the API counts it (never past the deadline); null while working or not started. */
  time_taken_seconds: number | null
  repo: {
    id: string
    slug: string
    html_url: string | null
    seed_sha_pinned: string
    base_sha: string
    final_sha: string | null
    archived: boolean
  } | null
  comments: Comment[]
  feedback: Feedback[]
}

interface ReviewedRange {
  repo_id: string
  base_sha: string
  head_sha: string
  in_progress: boolean
  html_url: string | null
  compare_url: string | null
}

export type TruncationReason = 'file_too_large' | 'diff_too_large' | 'path_too_long' | 'patch_unavailable'

export interface DiffFileEntry {
  path: string
  old_path: string
  status: 'added' | 'deleted' | 'modified' | 'renamed'
  additions: number | null
  deletions: number | null
  binary: boolean
  patch: string | null
  patch_truncated: boolean
  patch_truncated_reason: TruncationReason | null
}

export interface Diff extends ReviewedRange {
  truncated: boolean
  truncation: { files: number; additions: number; deletions: number; uncounted_files: number }
  totals: { files: number; additions: number; deletions: number }
  files: DiffFileEntry[]
}

export interface Commit {
  sha: string
  message: string
  author_name: string
  author_email: string
  authored_at: string
}

export interface Commits extends ReviewedRange {
  commits: Commit[]
  pushes: Array<{ received_at: string; ref: string; before: string; after: string; forced: boolean; commit_count: number }>
}

export interface EmailTemplate {
  id: string
  name: string
  is_default: boolean
}

export interface RenderedEmail {
  subject: string
  text: string
  html: string
}

const keys = {
  invitation: (id: string) => ['invitation', id] as const,
}

/** `initial`, here and below: the answer as the server read it while rendering the page, when it could. */
export const useInvitation = (id: string, initial?: InvitationDetail) =>
  useQuery({ queryKey: keys.invitation(id), queryFn: ({ signal }) => apiFetch<InvitationDetail>(reviewUrls(id).invitation, { signal }), initialData: initial })

export const useAssessmentTitle = (id: string | undefined) =>
  useQuery({
    queryKey: ['assessment', id],
    enabled: id !== undefined,
    queryFn: ({ signal }) => apiFetch<{ title: string }>(`/api/assessments/${id}`, { signal }),
    select: (a) => a.title,
  })

export const useDiff = (invitationId: string, initial?: Diff) =>
  useQuery({ queryKey: ['diff', invitationId], queryFn: ({ signal }) => apiFetch<Diff>(reviewUrls(invitationId).diff, { signal }), initialData: initial })

export const useCommits = (invitationId: string) =>
  useQuery({ queryKey: ['commits', invitationId], queryFn: ({ signal }) => apiFetch<Commits>(reviewUrls(invitationId).commits, { signal }) })

export const useFollowUpTemplates = () =>
  useQuery({
    queryKey: ['email-templates', 'follow_up'],
    queryFn: ({ signal }) => apiFetch<{ templates: EmailTemplate[] }>('/api/email-templates?kind=follow_up', { signal }),
    select: (r) => r.templates,
  })

export const useFollowUpPreview = (templateId: string, variables: { candidate_name: string; assessment_title?: string }) =>
  useQuery({
    queryKey: ['follow-up-preview', templateId, variables],
    queryFn: ({ signal }) =>
      apiFetch<RenderedEmail>('/api/email-templates/preview', {
        method: 'POST',
        signal,
        body: templateId ? { template_id: templateId, variables } : { kind: 'follow_up', variables },
      }),
  })

export function useAddComment(invitationId: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (input: { path?: string; line?: number; body: string }) =>
      apiFetch<Comment>(`/api/invitations/${invitationId}/comments`, { method: 'POST', body: input }),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.invitation(invitationId) }),
  })
}

export function useSaveFeedback(invitationId: string) {
  const client = useQueryClient()
  return useMutation({
    mutationFn: (input: { summary?: string; rating: number }) =>
      apiFetch<Feedback>(`/api/invitations/${invitationId}/feedback`, { method: 'POST', body: input }),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.invitation(invitationId) }),
  })
}

export const useSendFollowUp = (invitationId: string) =>
  useMutation({
    mutationFn: (templateId: string) =>
      apiFetch<{ status: 'queued' }>('/api/followup', {
        method: 'POST',
        body: templateId ? { invitation_id: invitationId, template_id: templateId } : { invitation_id: invitationId },
      }),
  })
