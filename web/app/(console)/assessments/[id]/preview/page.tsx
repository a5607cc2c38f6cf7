import type { Metadata } from 'next'
import { StartPagePreview } from '../../../../../features/assessments/start-preview'

export const metadata: Metadata = { title: "Preview of the candidate's start page" }

export default function StartPreviewPage() {
  return <StartPagePreview />
}
