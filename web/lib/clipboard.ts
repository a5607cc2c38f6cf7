'use client'

/** Selects the element's text, which is also what a person copying by hand would want to see. */
export function selectText(el: HTMLElement) {
  const range = document.createRange()
  range.selectNodeContents(el)
  const selection = window.getSelection()
  selection?.removeAllRanges()
  selection?.addRange(range)
}

/**
 * Puts `text` on the clipboard; false when the browser refused. The Clipboard API needs a
 * secure context, which a self-hosted install on plain http is not, so this falls back to
 * the older copy command on a selection: of `source` when given (the text as shown), or of
 * a short-lived off-screen field. That field goes inside the open dialog, if any: a modal
 * dialog takes focus back from anything outside it, which would empty the selection.
 */
export async function copyText(text: string, source?: HTMLElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text)
      return true
    }
  } catch {
    // fall through to the copy command
  }
  if (source) {
    selectText(source)
    return copySelection()
  }
  const focused = document.activeElement instanceof HTMLElement ? document.activeElement : null
  const field = document.createElement('textarea')
  field.value = text
  field.setAttribute('readonly', '')
  field.setAttribute('aria-hidden', 'true')
  field.style.position = 'fixed'
  field.style.left = '-9999px'
  ;(focused?.closest('[role="dialog"]') ?? document.body).append(field)
  field.select()
  try {
    return copySelection()
  } finally {
    field.remove()
    focused?.focus()
  }
}

function copySelection(): boolean {
  try {
    return document.execCommand('copy')
  } catch {
    return false
  }
}
