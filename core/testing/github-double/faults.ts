/** A failure the double answers with instead of (or after) doing the work. */
export type Fault =
  /**
   * `afterHandling`: the request is carried out (a repository really is created), then this
   * status is answered. 401 is GitHub's answer to a token minted a moment ago that has not
   * reached every replica yet; 404 the same for a repository just made.
   */
  | { kind: 'status'; status: 401 | 404 | 500 | 502 | 503; afterHandling?: boolean }
  | { kind: 'secondary-rate-limit'; retryAfterSeconds: number }

export interface FaultMatch {
  method: string
  /** Tested against the path both with and without the REST prefix (`/api/v3`). */
  path: RegExp
}

export interface FaultAnswer {
  status: number
  headers: Record<string, string>
  body: { message: string; documentation_url: string; status?: string }
}

const STATUS_MESSAGES: Record<number, string> = {
  401: 'Bad credentials',
  404: 'Not Found',
  500: 'Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
}

export function faultAnswer(fault: Fault): FaultAnswer {
  if (fault.kind === 'secondary-rate-limit') {
    return {
      status: 403,
      headers: { 'retry-after': String(fault.retryAfterSeconds) },
      body: {
        message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
        status: '403',
      },
    }
  }
  return {
    status: fault.status,
    headers: {},
    body: { message: STATUS_MESSAGES[fault.status] ?? 'Server Error', documentation_url: 'https://docs.github.com/rest', status: String(fault.status) },
  }
}

/** Scripted faults, each for its next `times` matching requests, first scripted first. */
export function createFaults() {
  const pending: Array<{ match: FaultMatch; fault: Fault; times: number }> = []
  return {
    add(match: FaultMatch, fault: Fault, times: number) {
      pending.push({ match, fault, times })
    },
    /** The fault for this request, used up by it, if one matches. */
    take(method: string, paths: string[]): Fault | undefined {
      const index = pending.findIndex(
        ({ match }) => match.method.toUpperCase() === method.toUpperCase() && paths.some((p) => {
          match.path.lastIndex = 0
          return match.path.test(p)
        }),
      )
      if (index < 0) return undefined
      const entry = pending[index]!
      entry.times -= 1
      if (entry.times <= 0) pending.splice(index, 1)
      return entry.fault
    },
  }
}
