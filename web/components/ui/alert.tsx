import { cva, type VariantProps } from 'class-variance-authority'
import type { ComponentProps } from 'react'
import { cn } from '../../lib/cn'

const alertVariants = cva('rounded-lg px-4 py-3 text-sm [&_a]:text-inherit [&_a]:underline', {
  variants: {
    tone: {
      info: 'bg-info-soft text-info',
      success: 'bg-success-soft text-success',
      warning: 'bg-warning-soft text-warning',
      danger: 'bg-danger-soft text-danger',
    },
  },
  defaultVariants: { tone: 'info' },
})

/** An inline notice. Errors and warnings interrupt (role=alert); the others are announced politely. */
export function Alert({ className, tone, title, children, ...props }: ComponentProps<'div'> & VariantProps<typeof alertVariants>) {
  const urgent = tone === 'danger' || tone === 'warning'
  return (
    <div role={urgent ? 'alert' : 'status'} className={cn(alertVariants({ tone }), className)} {...props}>
      {title && <p className="font-semibold">{title}</p>}
      {children}
    </div>
  )
}
