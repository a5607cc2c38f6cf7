import type { Metadata } from 'next'
import { Seeds } from '../../../features/seeds/seeds'

export const metadata: Metadata = { title: 'Seeds' }

export default function SeedsPage() {
  return <Seeds />
}
