import type { Metadata } from 'next'
import type { ReactNode } from 'react'
import Link from 'next/link'
import './globals.css'

export const metadata: Metadata = {
  title: { default: 'Takehome', template: '%s · Takehome' },
  description: 'Git-native, self-hostable take-home assessments.',
}

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="site-header">
          <Link href="/" className="wordmark">
            Takehome
          </Link>
        </header>
        <main className="site-main">{children}</main>
      </body>
    </html>
  )
}
