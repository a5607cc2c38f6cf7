// The only place the web app reads its environment. Read per call, not at import,
// so a build made once runs against whichever API the server process is pointed at.
export function apiBaseUrl(): string {
  const configured = process.env.TAKEHOME_API_URL
  if (configured) return configured.replace(/\/+$/, '')
  // Mounted inside the API server, the API is this very process.
  return `http://127.0.0.1:${process.env.PORT ?? 3000}`
}

/**
 * The API's public origin (its `PUBLIC_URL`, with the API's own default), which it trusts
 * as the Origin of cookie-authenticated writes. Calls carrying a browser's session cookie
 * send it: the page's own Server Action check has already verified the browser's origin.
 */
export function apiOrigin(): string {
  const configured = process.env.PUBLIC_URL?.trim()
  return new URL(configured || `http://localhost:${process.env.PORT ?? 3000}`).origin
}

/** Whether this process runs apart from the API (hosted mode) rather than mounted inside it. */
export function runsApartFromApi(): boolean {
  return Boolean(process.env.TAKEHOME_API_URL)
}

/**
 * The secret this web process shares with the API, when it runs apart from it (hosted
 * mode). Mounted inside the API server it is not needed: the server signs for it.
 */
export function sharedSecret(): string | undefined {
  const secret = process.env.SESSION_SECRET?.trim()
  return secret && secret.length >= 32 ? secret : undefined
}

/**
 * `TRUST_PROXY` as the API reads it (core/src/config.ts): off, a hop count (how many
 * proxies stand in front of this process), or the proxies' addresses and CIDRs, with the
 * names loopback, linklocal and uniquelocal. The API refuses a malformed value at start;
 * `true` (trust every hop) is off here.
 */
export function trustedProxies(): false | number | string[] {
  const raw = process.env.TRUST_PROXY?.trim() ?? ''
  if (raw === '' || raw === 'false' || raw === 'true') return false
  if (/^\d+$/.test(raw)) return Number(raw) || false
  return raw.split(',').map((entry) => entry.trim()).filter(Boolean)
}
