'use client'

import { useMutation, useQueryClient } from '@tanstack/react-query'
import { ChevronDown, LogOut, Menu, X } from 'lucide-react'
import Link from 'next/link'
import { usePathname, useRouter } from 'next/navigation'
import { type ReactNode, useEffect, useState } from 'react'
import { cn } from '../../lib/cn'
import { ApiError, apiFetch } from '../../lib/console-api'
import { signOut } from '../../lib/supabase-browser'
import { Button } from '../../components/ui/button'
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from '../../components/ui/dropdown-menu'
import { LoadingRows } from '../../components/ui/skeleton'
import { Toaster } from '../../components/ui/toast'
import { type Me, type Role, canManage, useMe } from './session'
import { ErrorState } from './states'

interface NavItem {
  href: string
  label: string
  /** Who sees it; everyone when absent. */
  roles?: (role: Role) => boolean
}

const NAV: NavItem[] = [
  { href: '/dashboard', label: 'Dashboard' },
  { href: '/assessments', label: 'Assessments' },
  { href: '/seeds', label: 'Seeds' },
  // The mailbox holds start links: the API shows it to those who manage only.
  { href: '/mailbox', label: 'Mailbox', roles: canManage },
  // Every role reads the templates and the members; the settings pages hide what a role cannot change.
  { href: '/settings', label: 'Settings' },
]

/** Where the login page sends the browser back to, once logged in: this page. */
function loginUrl(pathname: string): string {
  const here = pathname + window.location.search
  return `/login?next=${encodeURIComponent(here)}`
}

function NavLinks({ role, pathname, onNavigate }: { role: Role; pathname: string; onNavigate?: () => void }) {
  return NAV.filter((item) => !item.roles || item.roles(role)).map((item) => {
    const current = pathname === item.href || pathname.startsWith(`${item.href}/`)
    return (
      <li key={item.href}>
        <Link
          href={item.href}
          onClick={onNavigate}
          aria-current={current ? 'page' : undefined}
          className={cn(
            'block rounded-md px-3 py-1.5 text-sm font-medium text-foreground no-underline hover:bg-background',
            current && 'bg-background text-primary',
          )}
        >
          {item.label}
        </Link>
      </li>
    )
  })
}

function UserMenu({ me }: { me: Me }) {
  const router = useRouter()
  const queryClient = useQueryClient()
  const logout = useMutation({
    // With Supabase Auth, signOut revokes the session at Supabase; otherwise the API ends the cookie's.
    mutationFn: () => signOut(() => apiFetch<void>('/api/auth/logout', { method: 'POST' })),
    // A session that had already ended is logged out all the same.
    onSettled: (_data, error) => {
      if (error && !(error instanceof ApiError && error.code === 'unauthenticated')) return
      queryClient.clear()
      router.replace('/login')
    },
  })
  return (
    <DropdownMenu>
      <DropdownMenuTrigger asChild>
        <Button variant="ghost" size="sm" className="max-w-48 sm:max-w-64">
          <span className="truncate">{me.user.name ?? me.user.email}</span>
          <ChevronDown aria-hidden />
        </Button>
      </DropdownMenuTrigger>
      <DropdownMenuContent>
        <DropdownMenuLabel>
          <span className="block truncate font-semibold text-foreground">{me.user.email}</span>
          <span className="block truncate">
            {me.org.name} · {me.role}
          </span>
        </DropdownMenuLabel>
        <DropdownMenuSeparator />
        <DropdownMenuItem onSelect={() => logout.mutate()} disabled={logout.isPending}>
          <LogOut aria-hidden /> {logout.isPending ? 'Logging out…' : 'Log out'}
        </DropdownMenuItem>
        {logout.isError && <p className="px-2 py-1 text-xs text-danger">{(logout.error as Error).message}</p>}
      </DropdownMenuContent>
    </DropdownMenu>
  )
}

/**
 * The console's frame: who is signed in (GET /api/auth/me), the top bar and its menu, which
 * folds away behind a button on a narrow screen. Not signed in, the browser goes to the
 * login page, which brings it back here.
 */
export function ConsoleShell({ children, initialMe }: { children: ReactNode; initialMe?: Me }) {
  const pathname = usePathname()
  const router = useRouter()
  const me = useMe(initialMe)
  const [menuOpen, setMenuOpen] = useState(false)
  const signedOut = me.error instanceof ApiError && me.error.code === 'unauthenticated'

  useEffect(() => {
    if (signedOut) router.replace(loginUrl(pathname))
  }, [signedOut, pathname, router])

  return (
    <Toaster>
      <div className="console min-h-screen bg-background text-foreground">
        <a
          href="#console-main"
          className="sr-only rounded-md bg-surface px-3 py-2 focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50"
        >
          Skip to content
        </a>
        <header className="border-b border-border bg-surface">
          <div className="mx-auto flex h-14 max-w-6xl items-center gap-3 px-4">
            <Link href="/dashboard" className="text-lg font-bold text-foreground no-underline">
              Takehome
            </Link>
            {me.data && (
              <>
                <nav aria-label="Console" className="hidden flex-1 md:block">
                  <ul className="flex gap-1">
                    <NavLinks role={me.data.role} pathname={pathname} />
                  </ul>
                </nav>
                <span className="hidden truncate text-sm text-muted lg:inline">{me.data.org.name}</span>
                <div className="ml-auto flex items-center gap-1 md:ml-0">
                  <UserMenu me={me.data} />
                  <Button
                    variant="ghost"
                    size="icon"
                    className="md:hidden"
                    aria-expanded={menuOpen}
                    aria-controls="console-nav-narrow"
                    aria-label={menuOpen ? 'Close menu' : 'Open menu'}
                    onClick={() => setMenuOpen((open) => !open)}
                  >
                    {menuOpen ? <X aria-hidden /> : <Menu aria-hidden />}
                  </Button>
                </div>
              </>
            )}
          </div>
          {me.data && menuOpen && (
            <nav id="console-nav-narrow" aria-label="Console" className="border-t border-border px-4 py-2 md:hidden">
              <ul className="space-y-1">
                <NavLinks role={me.data.role} pathname={pathname} onNavigate={() => setMenuOpen(false)} />
              </ul>
            </nav>
          )}
        </header>
        <main id="console-main" className="mx-auto w-full max-w-6xl px-4 py-6">
          {me.data ? (
            children
          ) : me.isError && !signedOut ? (
            <ErrorState error={me.error} retry={() => void me.refetch()} what="your account" />
          ) : (
            <LoadingRows label={signedOut ? 'Taking you to the login page…' : 'Loading…'} />
          )}
        </main>
      </div>
    </Toaster>
  )
}
