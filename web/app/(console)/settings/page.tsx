import type { Metadata } from 'next'
import { SettingsIndex } from '../../../features/settings/settings-nav'

export const metadata: Metadata = { title: 'Settings' }

export default function SettingsPage() {
  return <SettingsIndex />
}
