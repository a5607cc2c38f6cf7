import type { ComponentProps } from 'react'
import { cn } from '../../lib/cn'

export const fieldClasses =
  'w-full min-w-0 rounded-md border border-muted bg-surface px-3 py-1.5 text-sm text-foreground placeholder:text-muted focus-visible:outline-3 focus-visible:outline-offset-1 focus-visible:outline-primary aria-invalid:border-danger aria-invalid:ring-1 aria-invalid:ring-danger disabled:opacity-60'

export function Input({ className, ...props }: ComponentProps<'input'>) {
  return <input className={cn(fieldClasses, 'h-9', className)} {...props} />
}
