import { type ClassValue, clsx } from 'clsx'
import { twMerge } from 'tailwind-merge'

/** Class names joined, later Tailwind utilities winning over earlier ones they conflict with. */
export const cn = (...classes: ClassValue[]) => twMerge(clsx(classes))
