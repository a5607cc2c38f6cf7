'use client'

import { useSyncExternalStore } from 'react'
import { formatWhen } from './format'

const utc = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' })
const never = () => () => {}

/**
 * A timestamp, in the viewer's time zone. A page the server renders with its data draws it
 * in UTC, saying so, and the browser redraws it in local time once the page is live: the
 * server does not know the viewer's zone, and the browser's first render must match the
 * server's HTML.
 */
export function When({ iso }: { iso: string }) {
  const live = useSyncExternalStore(never, () => true, () => false)
  return <time dateTime={iso}>{live ? formatWhen(iso) : `${utc.format(new Date(iso))} UTC`}</time>
}
