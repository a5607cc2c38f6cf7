import { callApi, isPlausibleToken, type ApiOutcome } from '../../lib/api-client'

export { isPlausibleToken, type ApiOutcome }

/**
 * Calls one of the candidate endpoints (`/api/start/:token`, `/api/submit/:token`) from
 * the server. The URL carries the candidate's only credential, which callApi keeps out of
 * logs and errors.
 */
export async function candidateApi(method: 'GET' | 'POST', endpoint: 'start' | 'submit', token: string): Promise<ApiOutcome> {
  if (!isPlausibleToken(token)) return { kind: 'error', status: 404, code: 'invitation_not_found', message: null }
  return callApi(`/api/${endpoint}/${encodeURIComponent(token)}`, {
    method,
    label: `start page: ${method} ${endpoint}`,
    // Start creates a repository: give it longer than a page read.
    timeoutMs: method === 'GET' ? 10_000 : 60_000,
  })
}
