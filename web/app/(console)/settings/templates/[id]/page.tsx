import type { Metadata } from 'next'
import { EditTemplate } from '../../../../../features/settings/templates'

export const metadata: Metadata = { title: 'Email template' }

export default function EditTemplatePage() {
  return <EditTemplate />
}
