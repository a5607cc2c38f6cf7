import type { ReactNode } from 'react'
import { ConsoleShell } from '../../features/console/console-shell'
import { QueryProvider } from '../../lib/query-provider'

export default function ConsoleLayout({ children }: { children: ReactNode }) {
  return (
    <QueryProvider>
      <ConsoleShell>{children}</ConsoleShell>
    </QueryProvider>
  )
}
