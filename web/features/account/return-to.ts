/**
 * The page of this site that `next` names, to go back to once logged in; undefined for
 * anything else. The path must not start with `//` even after resolving (`/.//host` resolves
 * to the path `//host`, which a router takes as another host), so a crafted link cannot send
 * a fresh session elsewhere.
 */
export function returnPath(next: string | null, origin: string): string | undefined {
  if (!next?.startsWith('/')) return undefined
  const url = new URL(next, origin)
  if (url.origin !== origin || url.pathname.startsWith('//')) return undefined
  return url.pathname + url.search + url.hash
}
