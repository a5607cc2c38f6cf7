import type { Metadata } from 'next'
import type { ReactNode } from 'react'
import { SiteFrame } from '../components/site-frame'
import './globals.css'

export const metadata: Metadata = {
  title: { default: 'Takehome', template: '%s · Takehome' },
  description: 'Git-native, self-hostable take-home assessments.',
}

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <SiteFrame>{children}</SiteFrame>
      </body>
    </html>
  )
}
