// @ts-check
import { fileURLToPath } from 'node:url'

// The pnpm workspace root: Next traces and resolves hoisted packages from there.
const workspaceRoot = fileURLToPath(new URL('..', import.meta.url))

/** @type {import('next').NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  turbopack: { root: workspaceRoot },
  outputFileTracingRoot: workspaceRoot,
  // Start links and emailed account links carry their holder's secret token: keep them out of dev request logs.
  logging: { incomingRequests: { ignore: [/^\/start\//, /^\/join\//, /^\/reset-password\//, /^\/signup\/confirm\//] } },
  // Every role may read the email templates, so /settings opens them: a real 307 from the
  // server (a page's redirect() would arrive inside an already streaming layout, a script's job).
  async redirects() {
    return [{ source: '/settings', destination: '/settings/templates', permanent: false }]
  },
  async headers() {
    return [
      {
        // Served apart from the API (hosted mode) the pages carry these themselves; mounted
        // in the API server they get the same from it. Nothing of ours is meant to be framed.
        source: '/:path*',
        headers: [
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'X-Frame-Options', value: 'DENY' },
          { key: 'Content-Security-Policy', value: "frame-ancestors 'none'" },
        ],
      },
      // The pages of emailed links hold their holder's secret in the URL. The header backs up
      // each page's <meta name="referrer">, which only covers HTML.
      ...['/start', '/join', '/reset-password', '/signup/confirm'].map((page) => ({
        source: `${page}/:path*`,
        headers: [
          { key: 'Referrer-Policy', value: 'no-referrer' },
          { key: 'X-Robots-Tag', value: 'noindex, nofollow' },
        ],
      })),
    ]
  },
}

export default nextConfig
