'use client'

import { apiAuthHeaders } from './supabase-browser'

/** An answer of the API that is not a success, in DESIGN's error shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
    this.name = 'ApiError'
  }

  /** What the API said about one body field (`validation_failed` lists `{ path: 'body.<name>', message }`), if anything. */
  fieldMessage(name: string): string | undefined {
    if (!Array.isArray(this.details)) return undefined
    const issue = (this.details as Array<{ path?: unknown; message?: unknown }>).find((i) => i.path === `body.${name}`)
    return typeof issue?.message === 'string' ? issue.message : undefined
  }
}

const UNREACHABLE = 'The server could not be reached. Check your connection and try again.'

/**
 * Calls our API from the browser, at this origin, with the session cookie (or, with Supabase
 * Auth, the access token as a Bearer). JSON in and
 * out; anything but a 2xx throws an ApiError (401: code `unauthenticated`), and a network
 * failure throws one with status 0, so every caller shows one kind of error.
 */
export async function apiFetch<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const res = await send(path, {
    method: init.method ?? 'GET',
    headers: { accept: 'application/json', ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: init.signal,
  })
  if (res.status === 204) return undefined as T
  const body: unknown = await res.json().catch(() => null)
  if (res.ok) return body as T
  throw failure(res.status, body)
}

/** A request to our API with the console's credentials; a network failure becomes an ApiError of status 0 (an abort stays an abort). */
async function send(path: string, init: RequestInit & { headers?: Record<string, string> }): Promise<Response> {
  try {
    return await fetch(path, { ...init, credentials: 'same-origin', headers: { ...init.headers, ...(await apiAuthHeaders()) } })
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err
    throw new ApiError(0, 'unreachable', UNREACHABLE)
  }
}

/** The ApiError of a refusal's status and JSON body. */
function failure(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error
  const code = status === 401 ? 'unauthenticated' : typeof error?.code === 'string' ? error.code : 'unknown'
  const message = typeof error?.message === 'string' ? error.message : `The server answered ${status}.`
  return new ApiError(status, code, message, error?.details)
}

/**
 * A file the API streams (a ZIP, a CSV), fetched with the console's credentials; its name
 * from Content-Disposition. Refusals throw an ApiError as apiFetch's do.
 */
export async function apiDownload(path: string): Promise<{ blob: Blob; filename: string | undefined }> {
  const res = await send(path, {})
  if (!res.ok) throw failure(res.status, await res.json().catch(() => null))
  const filename = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1]
  return { blob: await res.blob(), filename }
}
