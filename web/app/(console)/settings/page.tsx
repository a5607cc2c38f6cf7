import { redirect } from 'next/navigation'

// Every role may read the email templates, so /settings opens them, on the server: no script needed.
export default function SettingsPage() {
  redirect('/settings/templates')
}
