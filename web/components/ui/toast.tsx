'use client'

import * as ToastPrimitive from '@radix-ui/react-toast'
import { X } from 'lucide-react'
import { type ReactNode, createContext, useCallback, useContext, useState } from 'react'
import { cn } from '../../lib/cn'

interface Toast {
  id: number
  message: string
  tone: 'success' | 'danger'
}

const ToastContext = createContext<(message: string, tone?: Toast['tone']) => void>(() => {})

/** Short confirmations of what a click did ("Link copied", "Invite sent again"), announced to screen readers. */
export const useToast = () => useContext(ToastContext)

let nextId = 0

export function Toaster({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([])
  const show = useCallback((message: string, tone: Toast['tone'] = 'success') => {
    setToasts((current) => [...current.slice(-2), { id: ++nextId, message, tone }])
  }, [])
  return (
    <ToastContext.Provider value={show}>
      <ToastPrimitive.Provider duration={5000} label="Notification">
        {children}
        {toasts.map((toast) => (
          <ToastPrimitive.Root
            key={toast.id}
            type={toast.tone === 'danger' ? 'foreground' : 'background'}
            onOpenChange={(open) => !open && setToasts((current) => current.filter((t) => t.id !== toast.id))}
            className={cn(
              'flex items-start justify-between gap-3 rounded-lg px-4 py-3 text-sm shadow-lg ring-1 ring-border',
              toast.tone === 'danger' ? 'bg-danger-soft text-danger' : 'bg-success-soft text-success',
            )}
          >
            <ToastPrimitive.Description>{toast.message}</ToastPrimitive.Description>
            <ToastPrimitive.Close aria-label="Dismiss" className="rounded p-0.5 focus-visible:outline-3 focus-visible:outline-primary">
              <X className="size-4" aria-hidden />
            </ToastPrimitive.Close>
          </ToastPrimitive.Root>
        ))}
        <ToastPrimitive.Viewport className="fixed right-0 bottom-0 z-50 m-0 flex w-full max-w-sm list-none flex-col gap-2 p-4" />
      </ToastPrimitive.Provider>
    </ToastContext.Provider>
  )
}
