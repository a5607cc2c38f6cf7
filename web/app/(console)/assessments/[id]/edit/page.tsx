import type { Metadata } from 'next'
import { EditAssessment } from '../../../../../features/assessments/assessments'

export const metadata: Metadata = { title: 'Edit assessment' }

export default function EditAssessmentPage() {
  return <EditAssessment />
}
