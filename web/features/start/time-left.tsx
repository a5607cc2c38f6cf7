'use client'

import { useEffect, useState } from 'react'
import { formatRemaining } from './format'

/**
 * Time left until `deadline`: rendered on the server as of the request, then kept
 * current in the browser once a minute.
 */
export function TimeLeft({ deadline, renderedAt }: { deadline: string; renderedAt: number }) {
  const end = new Date(deadline).getTime()
  const [now, setNow] = useState(renderedAt)

  useEffect(() => {
    const tick = () => setNow(Date.now())
    tick()
    const timer = setInterval(tick, 30_000)
    return () => clearInterval(timer)
  }, [])

  const left = formatRemaining(end - now)
  return <>{left ? `${left} left` : 'The time is up'}</>
}
