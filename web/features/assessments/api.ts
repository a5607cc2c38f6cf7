'use client'

import { useQuery } from '@tanstack/react-query'
import { apiFetch } from '../../lib/console-api'

/** An assessment as the API answers it. Durations are ISO 8601 ("P3D", "PT48H"). */
export interface Assessment {
  id: string
  seed_id: string
  title: string
  description: string | null
  instructions: string | null
  candidate_email_subject: string | null
  candidate_email_body: string | null
  time_to_start: string
  time_to_complete: string
  created_at: string
  updated_at: string
}

export const ASSESSMENTS_KEY = ['assessments'] as const
export const assessmentKey = (id: string) => ['assessments', id] as const

export const useAssessments = () =>
  useQuery({
    queryKey: ASSESSMENTS_KEY,
    queryFn: ({ signal }) => apiFetch<{ assessments: Assessment[] }>('/api/assessments', { signal }),
  })

export const useAssessment = (id: string) =>
  useQuery({ queryKey: assessmentKey(id), queryFn: ({ signal }) => apiFetch<Assessment>(`/api/assessments/${id}`, { signal }) })

