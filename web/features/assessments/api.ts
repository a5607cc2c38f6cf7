'use client'

import { useQuery } from '@tanstack/react-query'
import MarkdownIt from 'markdown-it'
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

// As the API renders instructions for candidates (core/src/markdown.ts): raw HTML off, so
// the preview shows exactly what the candidate will see and nothing the author typed runs.
const md = new MarkdownIt({ html: false, linkify: true, typographer: false })
export const renderMarkdown = (source: string | null | undefined) => (source ? md.render(source) : '')
