import type { Executor } from './db/client.ts'
import { auditEvents } from './db/schema/index.ts'

export interface AuditEntry {
  orgId: string | null
  kind: string
  actor: string
  target?: string
  meta?: Record<string, unknown>
}

/** Written with the caller's transaction, so the record exists exactly when the change does. */
export async function recordAudit(exec: Executor, entry: AuditEntry): Promise<void> {
  await exec.insert(auditEvents).values({ ...entry, meta: entry.meta ?? {} })
}
