'use client'

import { Check, Copy } from 'lucide-react'
import { useState } from 'react'
import { Button, type ButtonProps } from '../../components/ui/button'
import { useToast } from '../../components/ui/toast'
import { copyText } from '../../lib/clipboard'

/** Puts `text` on the clipboard and says so; `label` names what is copied, for screen readers too. */
export function CopyButton({ text, label, children, ...props }: ButtonProps & { text: string; label: string }) {
  const toast = useToast()
  const [copied, setCopied] = useState(false)
  const copy = async () => {
    if (await copyText(text)) {
      setCopied(true)
      toast(`${label} copied`)
      setTimeout(() => setCopied(false), 2000)
    } else {
      toast(`Could not copy: your browser refused the clipboard.`, 'danger')
    }
  }
  return (
    <Button variant="ghost" size="sm" aria-label={`Copy ${label.toLowerCase()}`} onClick={() => void copy()} {...props}>
      {copied ? <Check aria-hidden /> : <Copy aria-hidden />}
      {children}
    </Button>
  )
}
