'use client'

import { useQuery } from '@tanstack/react-query'
import { apiFetch } from '../../lib/console-api'

export type Role = 'owner' | 'admin' | 'reviewer' | 'viewer'

/** The signed-in member, as GET /api/auth/me answers. */
export interface Me {
  user: { id: string; email: string; name: string | null }
  org: { id: string; name: string }
  role: Role
}

export const ME_KEY = ['me'] as const

/** `initial`: the session as the server found it while rendering the page, when it could. */
export const useMe = (initial?: Me) => useQuery({ queryKey: ME_KEY, queryFn: ({ signal }) => apiFetch<Me>('/api/auth/me', { signal }), initialData: initial })

// The API's own rule (core/src/actor.ts): owners and admins manage, reviewers also review.
export const canManage = (role: Role | undefined) => role === 'owner' || role === 'admin'
export const canReview = (role: Role | undefined) => canManage(role) || role === 'reviewer'

/** The signed-in member's role, once known; every console page renders inside the shell, which waits for it. */
export function useRole(): Role | undefined {
  return useMe().data?.role
}
