import type { Metadata } from 'next'
import { AssessmentList } from '../../../features/assessments/assessments'

export const metadata: Metadata = { title: 'Assessments' }

export default function AssessmentsPage() {
  return <AssessmentList />
}
