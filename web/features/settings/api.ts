'use client'

import { useQuery } from '@tanstack/react-query'
import { apiFetch } from '../../lib/console-api'
import type { Role } from '../console/session'

export const TEMPLATE_KINDS = [
  { value: 'invite', label: 'Invitation' },
  { value: 'reminder', label: 'Reminder' },
  { value: 'follow_up', label: 'Follow-up' },
] as const
export type TemplateKind = (typeof TEMPLATE_KINDS)[number]['value']
export const kindLabel = (kind: string) => TEMPLATE_KINDS.find((k) => k.value === kind)?.label ?? kind

/** An email template as the API answers it. */
export interface EmailTemplate {
  id: string
  kind: TemplateKind
  name: string
  subject: string
  body: string
  is_default: boolean
  created_at: string
  updated_at: string
}

/** A rendered email: what the candidate gets. */
export interface RenderedEmail {
  subject: string
  text: string
  html: string
}

export interface Member {
  user: { id: string; email: string; name: string | null }
  role: Role
  joined_at: string
}

export interface MemberInvitation {
  id: string
  email: string
  role: Role
  status: 'pending' | 'accepted' | 'revoked' | 'expired'
  expires_at: string
  created_at: string
}

/** An API key as listed: never the key itself, only its hint (first and last characters). */
export interface ApiKey {
  id: string
  name: string
  hint: string
  created_at: string
  last_used_at: string | null
  revoked_at: string | null
}

// Under the prefix the review page's follow-up list uses, so a change here refreshes it too.
export const TEMPLATES_KEY = ['email-templates'] as const
export const templateKey = (id: string) => ['email-templates', 'one', id] as const
export const MEMBERS_KEY = ['members'] as const
export const MEMBER_INVITATIONS_KEY = ['members', 'invitations'] as const
export const API_KEYS_KEY = ['api-keys'] as const

export const useTemplates = () =>
  useQuery({
    queryKey: TEMPLATES_KEY,
    queryFn: ({ signal }) => apiFetch<{ templates: EmailTemplate[] }>('/api/email-templates', { signal }),
    select: (r) => r.templates,
  })

export const useTemplate = (id: string) =>
  useQuery({ queryKey: templateKey(id), queryFn: ({ signal }) => apiFetch<EmailTemplate>(`/api/email-templates/${id}`, { signal }) })

export const useMembers = () =>
  useQuery({
    queryKey: MEMBERS_KEY,
    queryFn: ({ signal }) => apiFetch<{ members: Member[] }>('/api/members', { signal }),
    select: (r) => r.members,
  })

export const useMemberInvitations = () =>
  useQuery({
    queryKey: MEMBER_INVITATIONS_KEY,
    queryFn: ({ signal }) => apiFetch<{ invitations: MemberInvitation[] }>('/api/members/invitations', { signal }),
    select: (r) => r.invitations,
  })

export const useApiKeys = () =>
  useQuery({
    queryKey: API_KEYS_KEY,
    queryFn: ({ signal }) => apiFetch<{ api_keys: ApiKey[] }>('/api/api-keys', { signal }),
    select: (r) => r.api_keys,
  })
