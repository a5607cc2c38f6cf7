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
 * the older copy command on a selection: of `source` when given (the text as shown), or
 * of a short-lived off-screen field.
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
  const field = source ? undefined : document.createElement('textarea')
  if (field) {
    field.value = text
    field.setAttribute('readonly', '')
    field.style.position = 'fixed'
    field.style.left = '-9999px'
    document.body.append(field)
    field.select()
  } else {
    selectText(source!)
  }
  try {
    return document.execCommand('copy')
  } catch {
    return false
  } finally {
    field?.remove()
  }
}
