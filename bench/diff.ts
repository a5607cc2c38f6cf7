import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fmtInt, fmtMs, median, table, verdict } from './stats.ts'

/** The change reviewed: every line of 100 files of 500 lines rewritten (100,000 changed lines). */
export const DIFF_CHANGE = { files: 100, linesPerFile: 500 }
export const DIFFS = { runs: 5, targetMs: 1000, targetGrowthMiB: 50 }

/** Resident memory of a process, in bytes, from /proc. */
const rssOf = (pid: number) => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024

/**
 * (d) `GET /api/repos/:id/diff` on a 100,000-line change, JSON and raw. The server runs in a
 * child process (bench/diff-server.ts) so its RSS is its own; this process sends the
 * requests, reads each body to the end, and samples the child's RSS every 5 ms. Growth is
 * the peak over all runs against the RSS just before the first request.
 */
export async function benchDiff(progress: (s: string) => void) {
  progress('(d) starting the diff server and pushing a 100,000-line change')
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/diff-server.ts'], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string]
    const { base, repoId, headers } = JSON.parse(line) as { base: string; repoId: string; headers: Record<string, string> }
    const pid = child.pid!
    const before = rssOf(pid)
    let peak = before
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 5)

    async function get(accept: string) {
      const started = performance.now()
      const res = await fetch(`${base}/api/repos/${repoId}/diff`, { headers: { ...headers, accept } })
      if (res.status !== 200) throw new Error(`diff failed: ${res.status} ${await res.text()}`)
      let bytes = 0
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length
      return { ms: performance.now() - started, bytes }
    }

    const times = { json: [] as number[], raw: [] as number[] }
    let sizes = { json: 0, raw: 0 }
    try {
      for (let i = 0; i < DIFFS.runs; i++) {
        progress(`(d) diff ${i + 1}/${DIFFS.runs}`)
        const json = await get('application/json')
        const raw = await get('text/x-diff')
        times.json.push(json.ms)
        times.raw.push(raw.ms)
        sizes = { json: json.bytes, raw: raw.bytes }
      }
    } finally {
      clearInterval(sampler)
    }
    const growthMiB = (peak - before) / 1024 / 1024
    const worst = Math.max(median(times.json), median(times.raw))
    const ok = worst < DIFFS.targetMs && growthMiB < DIFFS.targetGrowthMiB
    const row = (label: string, xs: number[], bytes: number) => [label, fmtMs(median(xs)), fmtMs(Math.max(...xs)), `${(bytes / 1024 / 1024).toFixed(1)} MiB`]
    const report = [
      '### (d) Review diff of a 100,000-line change',
      '',
      `${DIFF_CHANGE.files} files of ${DIFF_CHANGE.linesPerFile} lines, every line rewritten (${fmtInt(DIFF_CHANGE.files * DIFF_CHANGE.linesPerFile * 2)} changed lines). ` +
        `${DIFFS.runs} requests each, JSON then raw, each body read to the end; the server runs in its own process, and its RSS is sampled every 5 ms ` +
        '(the first request is counted: no warm-up).',
      '',
      table(['GET /api/repos/:id/diff', 'median ms', 'max ms', 'body'], [row('JSON (patches within limits)', times.json, sizes.json), row('raw (Accept: text/x-diff), streamed', times.raw, sizes.raw)]),
      '',
      `Server RSS: ${(before / 1024 / 1024).toFixed(1)} MiB before, peak ${(peak / 1024 / 1024).toFixed(1)} MiB: growth **${growthMiB.toFixed(1)} MiB** ` +
        `(target < ${DIFFS.targetGrowthMiB} MiB: ${verdict(growthMiB < DIFFS.targetGrowthMiB)}); slower median **${fmtMs(worst)} ms** (target < ${DIFFS.targetMs} ms: ${verdict(worst < DIFFS.targetMs)})`,
    ].join('\n')
    return { report, ok, growthMiB, jsonMs: median(times.json), rawMs: median(times.raw) }
  } finally {
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
}
