// The embedded default in one process: API, web app (and, as they land, the git gateway
// and job runner) on one origin. Hosted mode runs api/src/server.ts and `next start` apart.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { explainStartupFailure, type StartOptions, startServer } from '@takehome/api/server'

type WebHandler = NonNullable<StartOptions['fallback']>

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'web')

async function main() {
  // handler.mjs is plain JavaScript so that `next` is only loaded here, never by the API.
  const { createWebHandler } = (await import(path.join(webDir, 'handler.mjs'))) as {
    createWebHandler(options: { dir: string }): Promise<WebHandler>
  }
  const fallback = await createWebHandler({ dir: webDir })
  const { config } = await startServer({ fallback })
  console.log(`\n  Takehome is running at ${config.publicUrl}  ·  API docs ${config.publicUrl}/docs  ·  Ctrl-C stops it\n`)
}

main().catch(explainStartupFailure)
