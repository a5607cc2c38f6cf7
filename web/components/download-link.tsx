'use client'

import type { ComponentProps, MouseEvent } from 'react'
import { useState } from 'react'
import { apiDownload } from '../lib/console-api'
import { authConfig } from '../lib/supabase-browser'
import { useToast } from './ui/toast'

/**
 * A link to a file the API streams (a ZIP, a CSV). With local accounts the session cookie
 * goes with a plain link, and the browser streams the file to disk. With Supabase Auth the
 * access token has to go in a header, which a link cannot carry: the file is fetched with it
 * and handed to the browser to save, and a refusal is shown rather than saved as a file.
 */
export function DownloadLink({ href, onClick, ...props }: ComponentProps<'a'> & { href: string }) {
  const toast = useToast()
  const [busy, setBusy] = useState(false)

  async function download() {
    const { mode } = await authConfig().catch(() => ({ mode: 'local' }))
    if (mode !== 'supabase') return save(href)
    setBusy(true)
    try {
      const { blob, filename } = await apiDownload(href)
      const url = URL.createObjectURL(blob)
      save(url, filename)
      // Browsers start saving asynchronously: the file's memory is let go once it surely has.
      setTimeout(() => URL.revokeObjectURL(url), 60_000)
    } catch (err) {
      toast(`The download failed: ${(err as Error).message}`, 'danger')
    } finally {
      setBusy(false)
    }
  }

  const click = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event)
    // A click with a modifier (a new tab, save as) is the browser's own.
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    event.preventDefault()
    if (!busy) void download()
  }

  return <a href={href} download onClick={click} aria-busy={busy || undefined} {...props} />
}

function save(href: string, filename = '') {
  const link = document.createElement('a')
  link.href = href
  link.download = filename
  document.body.append(link)
  link.click()
  link.remove()
}
