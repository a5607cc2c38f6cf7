import { NextResponse, type NextRequest } from 'next/server'

/**
 * The pages of emailed links (start, join, password reset, sign-up confirmation) send no
 * Referer: their URL holds the holder's secret. By the Fetch standard that policy also
 * turns the Origin of a form the browser posts by itself (no JavaScript yet) into `null`,
 * which Next's Server Action CSRF check refuses. The
 * browser's Sec-Fetch-Site header, which no page can set, still tells a same-origin post
 * apart: for exactly those, restore the Origin that the check compares with the Host.
 * Anything else reaches Next untouched, and cross-site posts are refused as before.
 */
export function proxy(request: NextRequest) {
  const sameOriginPost =
    request.method === 'POST' &&
    request.headers.get('origin') === 'null' &&
    request.headers.get('sec-fetch-site') === 'same-origin'
  if (!sameOriginPost) return NextResponse.next()
  const host = request.headers.get('x-forwarded-host')?.split(',')[0]?.trim() || request.headers.get('host')
  if (!host) return NextResponse.next()
  const headers = new Headers(request.headers)
  headers.set('origin', `${request.nextUrl.protocol}//${host}`)
  return NextResponse.next({ request: { headers } })
}

// Read by Next at build time, so every path is written out rather than generated.
export const config = {
  matcher: [
    {
      source: '/start/:token',
      has: [
        { type: 'header', key: 'origin', value: 'null' },
        { type: 'header', key: 'sec-fetch-site', value: 'same-origin' },
      ],
    },
    {
      source: '/join/:token',
      has: [
        { type: 'header', key: 'origin', value: 'null' },
        { type: 'header', key: 'sec-fetch-site', value: 'same-origin' },
      ],
    },
    {
      source: '/reset-password/:token',
      has: [
        { type: 'header', key: 'origin', value: 'null' },
        { type: 'header', key: 'sec-fetch-site', value: 'same-origin' },
      ],
    },
    {
      source: '/signup/confirm/:token',
      has: [
        { type: 'header', key: 'origin', value: 'null' },
        { type: 'header', key: 'sec-fetch-site', value: 'same-origin' },
      ],
    },
  ],
}
