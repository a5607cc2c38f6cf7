import type { Metadata } from 'next'
import { NewTemplate } from '../../../../../features/settings/templates'

export const metadata: Metadata = { title: 'New email template' }

export default function NewTemplatePage() {
  return <NewTemplate />
}
