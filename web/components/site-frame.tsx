'use client'

import Link from 'next/link'
import { useSelectedLayoutSegment } from 'next/navigation'
import type { ReactNode } from 'react'

/**
 * The candidate and account pages' narrow frame, with the wordmark above. The console
 * (the (console) route group) draws its own, full width, with its navigation.
 */
export function SiteFrame({ children }: { children: ReactNode }) {
  if (useSelectedLayoutSegment() === '(console)') return children
  return (
    <>
      <header className="site-header">
        <Link href="/" className="wordmark">
          Takehome
        </Link>
      </header>
      <main className="site-main">{children}</main>
    </>
  )
}
