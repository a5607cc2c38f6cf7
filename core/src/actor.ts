import type { Role } from './db/schema/index.ts'
import { forbidden } from './errors.ts'

/** Who is calling an admin route: a member of exactly one org, through a session, an API key or a Supabase access token. */
export interface Actor {
  userId: string
  orgId: string
  role: Role
  via: 'session' | 'api_key' | 'supabase'
  sessionId?: string
  apiKeyId?: string
}

/** How an actor is named in audit events. */
export const actorRef = (actor: Actor) => (actor.apiKeyId ? `api_key:${actor.apiKeyId}` : `user:${actor.userId}`)

export const MANAGE: readonly Role[] = ['owner', 'admin']
export const REVIEW: readonly Role[] = ['owner', 'admin', 'reviewer']

export function requireRole(actor: Actor, allowed: readonly Role[]): void {
  if (!allowed.includes(actor.role)) {
    throw forbidden(`this action needs one of the roles ${allowed.join(', ')}; you are ${actor.role}`)
  }
}
