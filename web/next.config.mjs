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
  // Start links carry the candidate's secret token: keep them out of dev request logs.
  logging: { incomingRequests: { ignore: [/^\/start\//] } },
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
      {
        // The header backs up the page's <meta name="referrer">, which only covers HTML.
        source: '/start/:path*',
        headers: [
          { key: 'Referrer-Policy', value: 'no-referrer' },
          { key: 'X-Robots-Tag', value: 'noindex, nofollow' },
        ],
      },
    ]
  },
}

export default nextConfig
