import type { Metadata } from 'next'
import { TemplateList } from '../../../../features/settings/templates'

export const metadata: Metadata = { title: 'Email templates' }

export default function TemplatesPage() {
  return <TemplateList />
}
