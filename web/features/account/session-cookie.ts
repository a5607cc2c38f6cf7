/** The API's session cookie (api/src/plugins/app/auth.ts), signed by the API: opaque to us. */
export const SESSION_COOKIE = 'takehome_session'

export interface SessionCookie {
  /** Decoded: Next encodes cookie values itself when it sets them. */
  value: string
  expires: Date | undefined
  secure: boolean
}

/**
 * The session cookie among an API answer's Set-Cookie headers, with the attributes the
 * browser must keep: the API sets it for its own origin, and our Server Action passes it on.
 */
export function sessionCookieFrom(setCookies: string[]): SessionCookie | undefined {
  for (const header of setCookies) {
    const [pair = '', ...attributes] = header.split(';').map((part) => part.trim())
    const eq = pair.indexOf('=')
    if (eq < 0 || pair.slice(0, eq) !== SESSION_COOKIE) continue
    let value: string
    try {
      value = decodeURIComponent(pair.slice(eq + 1))
    } catch {
      return undefined
    }
    if (value === '') return undefined
    let expires: Date | undefined
    let secure = false
    for (const attribute of attributes) {
      const [key = '', raw = ''] = attribute.split(/=(.*)/s)
      const name = key.trim().toLowerCase()
      if (name === 'secure') secure = true
      if (name === 'expires') {
        const date = new Date(raw)
        if (!Number.isNaN(date.getTime())) expires = date
      }
      // Max-Age wins over Expires (RFC 6265 §5.3), so it is turned into the date it means.
      if (name === 'max-age' && /^-?\d+$/.test(raw.trim())) expires = new Date(Date.now() + Number(raw.trim()) * 1000)
    }
    return { value, expires, secure }
  }
  return undefined
}
