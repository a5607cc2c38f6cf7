'use client'

import { useEffect, useState } from 'react'
import { copyText, selectText } from '../../lib/clipboard'
import { useHydrated } from './use-hydrated'

type Result = 'idle' | 'copied' | 'failed'

/**
 * A Copy button for a command shown in `sourceId`. Hidden until JavaScript runs: without
 * it the command is still there to select by hand.
 */
export function CopyButton({ text, sourceId, label }: { text: string; sourceId: string; label: string }) {
  const hydrated = useHydrated()
  const [result, setResult] = useState<Result>('idle')

  useEffect(() => {
    if (result === 'idle') return
    const timer = setTimeout(() => setResult('idle'), 3000)
    return () => clearTimeout(timer)
  }, [result])

  const onClick = async () => {
    const source = document.getElementById(sourceId)
    const ok = await copyText(text, source)
    if (!ok && source) selectText(source)
    setResult(ok ? 'copied' : 'failed')
  }

  return (
    <>
      <button type="button" className="button button-small button-secondary" hidden={!hydrated} onClick={onClick}>
        {result === 'copied' ? 'Copied' : 'Copy'}
        <span className="visually-hidden"> {label}</span>
      </button>
      <span className="visually-hidden" role="status">
        {result === 'copied' ? `${label} copied to the clipboard` : result === 'failed' ? 'Could not copy: the command is selected, copy it with your keyboard' : ''}
      </span>
    </>
  )
}
