import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * The org a piece of work acts for. On PostgreSQL every statement run inside an org scope
 * runs in a transaction as the role `takehome_app` with `app.org_id` set, so row-level
 * security hides every other org's rows even from a query that forgot its `org_id` filter
 * (see migrations/0006_tenant_isolation.sql). The admin API runs each request in its
 * actor's org scope, and a candidate's start page, Start and Submit run in their
 * invitation's org once the start link has named it.
 *
 * Outside any org scope is the system path: work that is cross-org by nature runs as the
 * role DATABASE_URL logs in as (a member of `takehome_system`, whose policies let it see
 * every org): the job runner and the scheduled sweepers, GitHub's webhooks, and the lookups
 * that find an org from a secret (a session or API key, a start link, an access token at
 * the broker and the gateway, whose answers stay on this path: they are git's hot path).
 *
 * The embedded PGlite database has one user and no roles to switch to: there the scope is
 * recorded but only the application's own `org_id` filters separate orgs.
 */
const scope = new AsyncLocalStorage<{ orgId: string }>()

/** Runs `fn`, and everything it starts, in `orgId`'s scope. */
export function withOrgScope<T>(orgId: string, fn: () => T): T {
  return scope.run({ orgId }, fn)
}

/** Runs `fn` on the system path even when called from inside an org's scope (a job woken by a request). */
export function outsideOrgScope<T>(fn: () => T): T {
  return scope.exit(fn)
}

/** The org of the current scope, if any. */
export function currentOrgScope(): string | undefined {
  return scope.getStore()?.orgId
}
