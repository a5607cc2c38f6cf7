import type { ReactNode } from 'react'
import { preload } from 'react-dom'
import { readAsBrowser } from '../../features/account/account-api'
import { ConsoleShell } from '../../features/console/console-shell'
import type { Me } from '../../features/console/session'
import { QueryProvider } from '../../lib/query-provider'

/**
 * The session is asked for while the page renders on the server, so its HTML comes with
 * the console's frame and the page itself drawn, not a spinner waiting for the scripts to
 * ask. Without a session cookie (signed out, or Supabase Auth, whose token only the browser
 * holds) the shell asks from the browser as before.
 */
export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  // The console's first API call waits for it (web/lib/supabase-browser.ts): fetched with the scripts, not after them.
  preload('/api/auth/config', { as: 'fetch', crossOrigin: 'anonymous' })
  const me = (await readAsBrowser('/api/auth/me')) as Me | undefined
  return (
    <QueryProvider>
      <ConsoleShell initialMe={me}>{children}</ConsoleShell>
    </QueryProvider>
  )
}
