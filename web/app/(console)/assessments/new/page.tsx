import type { Metadata } from 'next'
import { NewAssessment } from '../../../../features/assessments/assessments'

export const metadata: Metadata = { title: 'New assessment' }

export default function NewAssessmentPage() {
  return <NewAssessment />
}
