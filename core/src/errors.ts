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

/** postgres.js and PGlite both report SQLSTATE in `code`; drizzle wraps it in `cause`. */
export function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code
  }
  return undefined
}

export const isUniqueViolation = (err: unknown) => sqlState(err) === '23505'
