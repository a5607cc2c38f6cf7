// Plain ESM JavaScript so the API process can import it without a TypeScript loader.
import next from 'next'

/**
 * Prepares the Next app and returns its Node request handler, for the API server to
 * mount as the fallback route.
 *
 * @param {{ dir: string, dev?: boolean, hostname?: string, port?: number }} options
 * @returns {Promise<(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<void>>}
 */
export async function createWebHandler({ dir, dev = false, hostname, port }) {
  // `next build` is run with telemetry off; a dev server started from here would phone home otherwise.
  process.env.NEXT_TELEMETRY_DISABLED ??= '1'
  const app = next({ dir, dev, hostname, port })
  await app.prepare()
  return app.getRequestHandler()
}
