import { z } from 'zod'
import { errorSchema } from '../presenters.ts'

// PostgreSQL cannot store NUL in text, so a NUL that got past the edge failed a query
// later as a 500. No field needs one: every client string is checked here.
const NO_NUL = /^[^\0]*$/
// Names, titles and subjects are one line: they reach email subjects and other headers,
// where a CR/LF starts a new header. Other control characters and the Unicode line
// separators have no business there either.
const ONE_LINE = /^[^\p{Cc}\u2028\u2029]*$/u
// Prose keeps tabs and line breaks; other control characters are refused.
const PROSE = /^[\t\n\r\P{Cc}]*$/u

/** A string kept exactly as sent (passwords, tokens, preview values): only NUL is refused. */
export const verbatim = () => z.string().regex(NO_NUL, { error: 'must not contain NUL characters' })
/** Text that may span lines, as people write it; not trimmed, may be empty. */
export const multiline = () => z.string().regex(PROSE, { error: 'must not contain control characters other than tabs and line breaks' })

export const emailField = z.email({ error: 'must be an email address' }).max(254)
export const idParams = z.object({ id: z.uuid({ error: 'must be a UUID' }) })
/** One line (a name, a title, a subject, a path), trimmed and not empty. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(max)
    .regex(ONE_LINE, { error: 'must be a single line without control characters' })
/** A body (a comment, a template), trimmed and not empty. */
export const prose = (max: number) => multiline().trim().min(1, { error: 'must not be empty' }).max(max)
export const optionalText = (max: number) => multiline().max(max).nullish()
/** The largest value of a PostgreSQL `integer` column. */
export const INT4_MAX = 2_147_483_647

/** Error responses every route may give, for the OpenAPI document. */
export const errors = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  409: errorSchema,
  413: errorSchema,
  415: errorSchema,
  422: errorSchema,
  429: errorSchema,
}

export const admin: Array<Record<string, string[]>> = [{ apiKey: [] }, { session: [] }]
