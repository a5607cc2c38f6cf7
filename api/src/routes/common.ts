import { z } from 'zod'
import { errorSchema } from '../presenters.ts'

export const emailField = z.email({ error: 'must be an email address' }).max(254)
export const idParams = z.object({ id: z.uuid({ error: 'must be a UUID' }) })
export const text = (max: number) => z.string().trim().min(1, { error: 'must not be empty' }).max(max)
export const optionalText = (max: number) => z.string().max(max).nullish()

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
