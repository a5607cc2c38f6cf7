import type { ServerResponse } from 'node:http'
import { type Config, REFUSAL_MESSAGES, type Services } from '@takehome/core'
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'

// What the gateway's two ways of serving a git request share: the local host's
// `git http-backend` (gateway.ts) and the reverse proxy to GitHub (github-proxy.ts).

export type GitLimits = Config['git']
export type Grant = Extract<Awaited<ReturnType<Services['access']['check']>>, { ok: true }>['grant']
export type GitService = 'git-upload-pack' | 'git-receive-pack'
export type Endpoint = 'info/refs' | 'git-upload-pack' | 'git-receive-pack'

/** One authorised git request, admitted by the limiter, before any byte of its body is read. */
export interface GitRequest {
  request: FastifyRequest
  slug: string
  endpoint: Endpoint
  service: GitService
  grant: Grant
  /**
   * The access deadline on this machine's clock (ms since the epoch), fixed when the request
   * was authorised: opening it may wait (on GitHub, for a credential), the deadline does not.
   */
  deadlineAt: number
}

/** A request under way: `stop` ends it early, `done` settles once it is over either way. */
export interface Running {
  stop(reason: StopReason): void
  done: Promise<void>
}

export type Opened =
  /** Refused before anything ran: the gateway answers it as it answers every refusal. */
  | { ok: false; status: number; message: string }
  | { ok: true; run(res: ServerResponse, onDone: () => void): Running }

/** Where the gateway sends an admitted request. */
export interface GitBackend {
  open(git: GitRequest): Promise<Opened>
  close(): void
}

/** The largest push this grant may make: the assessment's limit, or the server's default, within the server's cap. */
export const pushLimit = (grant: Grant, limits: GitLimits) => Math.min(grant.maxPushBytes ?? limits.pushDefaultMaxBytes, limits.pushMaxBytes)

/** Sizes as the pre-receive hook writes them. */
export const size = (bytes: number) => (bytes >= 1024 * 1024 ? `${Math.floor(bytes / (1024 * 1024))} MiB` : `${Math.floor(bytes / 1024)} KiB`)

export type StopReason = 'idle' | 'too_long' | 'deadline' | 'ended'
const STOPPED: Record<StopReason, { status: number; message: string }> = {
  idle: { status: 408, message: 'the request sent or read nothing for too long' },
  too_long: { status: 408, message: 'the request took longer than the server allows one git request' },
  deadline: { status: 403, message: REFUSAL_MESSAGES.deadline_passed },
  ended: { status: 403, message: 'the assessment has ended; the repository is closed' },
}

/** A pkt-line: four hex digits of length (including themselves), then the payload. */
export const pktLine = (payload: string | Buffer) => {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0')), body])
}

/**
 * A refusal git shows the candidate. In an advertisement (`info/refs`), an ERR line: git
 * prints "remote error: <message>". Elsewhere the status, with the message as text, and
 * the connection closed rather than waiting for the rest of a body nobody will read.
 */
export function refusal(endpoint: Endpoint, service: string, status: number, message: string) {
  if (endpoint === 'info/refs') {
    return {
      status: 200,
      headers: { 'content-type': `application/x-${service}-advertisement`, 'cache-control': 'no-cache' },
      body: Buffer.concat([pktLine(`# service=${service}\n`), Buffer.from('0000'), pktLine(`ERR ${message}`)]),
    }
  }
  return { status, headers: { 'content-type': 'text/plain', connection: 'close' }, body: Buffer.from(`${message}\n`) }
}

/**
 * Bounds one request in time: one that moves no bytes either way for `idleTimeoutMs` is
 * stopped, so a stalled client cannot hold the work behind it; nor can one that trickles a
 * byte now and then, past `maxRequestMs`. `awaitingWork`, when given, says the client is
 * not the one being waited on (it sent everything and reads what comes): no bytes moving
 * then is the work behind it being slow, which only `maxRequestMs` bounds. `stop` ends it
 * for any reason: `abort` ends the work behind it, and the client gets the reason when
 * nothing was answered yet.
 */
export function supervise(
  res: ServerResponse,
  log: FastifyBaseLogger,
  {
    idleTimeoutMs,
    maxRequestMs,
    isRunning,
    abort,
    awaitingWork,
  }: { idleTimeoutMs: number; maxRequestMs: number; isRunning: () => boolean; abort: () => void; awaitingWork?: () => boolean },
) {
  let stopped: StopReason | undefined
  function stop(reason: StopReason) {
    if (!isRunning()) return
    stopped = reason
    log.info({ reason }, 'git request stopped by the gateway')
    abort()
    if (reason !== 'idle' && !res.headersSent) {
      const { status, message } = STOPPED[reason]
      res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' }).end(`${message}\n`)
    } else res.destroy()
  }
  // When it fires while the work is awaited, the timer rests until the next byte refreshes it.
  const idle = setTimeout(() => awaitingWork?.() || stop('idle'), idleTimeoutMs)
  const tooLong = setTimeout(() => stop('too_long'), maxRequestMs)
  return {
    stop,
    /** Bytes moved: the idle timer starts again. */
    progress: () => void idle.refresh(),
    stopped: () => stopped,
    finish() {
      clearTimeout(idle)
      clearTimeout(tooLong)
    },
  }
}
