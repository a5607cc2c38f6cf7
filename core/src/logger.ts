import { pino, type DestinationStream, type LoggerOptions } from 'pino'
import { databaseError } from './errors.ts'
import { TOKEN_PATTERN } from './tokens.ts'

/**
 * Tokens travel in paths (`/api/start/thi_…`) and query strings (`?token=`): neither reaches a log.
 * Nor does a candidate's address asked for in a query string (a subject access request).
 */
export function redactUrl(url: string): string {
  return url.replace(TOKEN_PATTERN, (t) => `${t.slice(0, 4)}[redacted]`).replace(/([?&](?:token|key|password|email)=)[^&#]*/gi, '$1[redacted]')
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.password',
        '*.token',
        '*.key',
        '*.secret',
      ],
      censor: '[redacted]',
    },
    serializers: {
      // A database error logs its SQLSTATE and names, never its query, parameters or message.
      err: (err: Error) => databaseError(err) ?? pino.stdSerializers.err(err),
      req: (req: { method: string; url: string; id: string; ip?: string }) => ({
        method: req.method,
        url: redactUrl(req.url),
        request_id: req.id,
        remote: req.ip,
      }),
      res: (res: { statusCode: number }) => ({ status: res.statusCode }),
    },
  }
}

export const createLogger = (level: string, destination?: DestinationStream) =>
  destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level))
