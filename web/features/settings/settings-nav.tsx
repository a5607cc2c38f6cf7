'use client'

import Link from 'next/link'
import { usePathname } from 'next/navigation'
import type { ReactNode } from 'react'
import { cn } from '../../lib/cn'
import { canManage, type Role, useRole } from '../console/session'

/** The settings pages, in order; who may see each follows what the API lets them read. */
const SETTINGS_PAGES: Array<{ href: string; label: string; roles?: (role: Role) => boolean }> = [
  { href: '/settings/templates', label: 'Email templates' },
  { href: '/settings/members', label: 'Members' },
  { href: '/settings/api-keys', label: 'API keys', roles: canManage },
  { href: '/settings/audit', label: 'Audit log', roles: canManage },
  { href: '/settings/retention', label: 'Data retention' },
]

const visiblePages = (role: Role | undefined) => SETTINGS_PAGES.filter((p) => role && (!p.roles || p.roles(role)))

/** The settings pages' frame: their sub-navigation beside the page (above it on a narrow screen). */
export function SettingsFrame({ children }: { children: ReactNode }) {
  const pathname = usePathname()
  const pages = visiblePages(useRole())
  return (
    <div className="grid gap-6 md:grid-cols-[11rem_minmax(0,1fr)]">
      <nav aria-label="Settings">
        <ul className="flex flex-wrap gap-1 md:flex-col">
          {pages.map((p) => {
            const current = pathname === p.href || pathname.startsWith(`${p.href}/`)
            return (
              <li key={p.href}>
                <Link
                  href={p.href}
                  aria-current={current ? 'page' : undefined}
                  className={cn(
                    'block rounded-md px-3 py-1.5 text-sm font-medium text-foreground no-underline hover:bg-surface',
                    current && 'bg-surface text-primary ring-1 ring-border',
                  )}
                >
                  {p.label}
                </Link>
              </li>
            )
          })}
        </ul>
      </nav>
      <div className="min-w-0">{children}</div>
    </div>
  )
}
