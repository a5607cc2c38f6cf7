'use client'

import { useEffect, useState } from 'react'
import { useHydrated } from './use-hydrated'

type Result = 'idle' | 'copied' | 'failed'

/** Selects the element's text, which is also what a person copying by hand would want to see. */
function selectText(el: HTMLElement) {
  const range = document.createRange()
  range.selectNodeContents(el)
  const selection = window.getSelection()
  selection?.removeAllRanges()
  selection?.addRange(range)
}

async function copy(text: string, source: HTMLElement | null): Promise<boolean> {
  // The Clipboard API needs a secure context: a self-hosted install on plain http has
  // none, so fall back to selecting the text and the older copy command.
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text)
      return true
    }
  } catch {
    // fall through
  }
  if (!source) return false
  selectText(source)
  try {
    return document.execCommand('copy')
  } catch {
    return false
  }
}

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
    const ok = await copy(text, source)
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
