/**
 * The one error type services throw. `expose` says whether `message` may reach the
 * client; anything that is not an AppError is answered as a generic 500 by the API.
 */
export class AppError extends Error {
  readonly code: string
  readonly statusCode: number
  readonly details: unknown
  readonly expose: boolean

  constructor(
    statusCode: number,
    code: string,
    message: string,
    options: { details?: unknown; expose?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause })
    this.name = 'AppError'
    this.statusCode = statusCode
    this.code = code
    this.details = options.details
    this.expose = options.expose ?? statusCode < 500
  }
}

export const notFound = (what: string) => new AppError(404, `${what}_not_found`, `${what.replaceAll('_', ' ')} not found`)
export const forbidden = (message = 'your role does not allow this action') => new AppError(403, 'forbidden', message)
export const conflict = (code: string, message: string, details?: unknown) => new AppError(409, code, message, { details })
export const unprocessable = (code: string, message: string, details?: unknown) =>
  new AppError(422, code, message, { details })

/**
 * postgres.js and PGlite both report SQLSTATE in `code` beside a `severity`; drizzle wraps
 * it in `cause`. Node's own errors have five-letter codes too (EPIPE, EPERM, EXDEV) but no
 * severity, and no SQLSTATE class starts with E: those keep their message.
 */
export function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const { code, severity } = e as { code?: unknown; severity?: unknown }
    if (typeof code === 'string' && typeof severity === 'string' && /^[0-9A-DF-Z][0-9A-Z]{4}$/.test(code)) return code
  }
  return undefined
}

export const isUniqueViolation = (err: unknown) => sqlState(err) === '23505'

/** What of a database error may be logged. */
export interface DatabaseErrorSummary {
  type: 'DatabaseError'
  message: string
  code: string
  constraint?: string
  table?: string
  column?: string
  /** Stack frames only: the first line of a stack repeats the message. */
  stack?: string
}

/**
 * The loggable part of a database error, or undefined for any other error. drizzle,
 * postgres.js and PGlite put the query, its parameters (password hashes, token hashes)
 * and messages quoting values (`Key (email)=(…)`, `invalid input syntax: "…"`) on the
 * error: only SQLSTATE and the names of the constraint, table and column are kept.
 */
export function databaseError(err: unknown): DatabaseErrorSummary | undefined {
  const code = sqlState(err)
  if (!code) return undefined
  const names: Partial<Record<'constraint' | 'table' | 'column', string>> = {}
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    // PGlite (pg-protocol) names these `constraint`, `table`, `column`; postgres.js `*_name`.
    const fields = e as Record<string, unknown>
    for (const name of ['constraint', 'table', 'column'] as const) {
      const value = fields[name] ?? fields[`${name}_name`]
      if (typeof value === 'string' && !names[name]) names[name] = value
    }
  }
  const frames = err instanceof Error ? err.stack?.split('\n').filter((line) => /^\s+at /.test(line)) : undefined
  return {
    type: 'DatabaseError',
    message: `database error ${code}`,
    code,
    ...names,
    ...(frames?.length ? { stack: frames.join('\n') } : {}),
  }
}
