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
