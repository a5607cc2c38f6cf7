import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'

/** What the numbers were measured on, printed above them. */
export function describeMachine() {
  let cpu = os.cpus()[0]?.model ?? 'unknown'
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu
  } catch {
    // not Linux: os.cpus() is good enough
  }
  let cores = String(os.availableParallelism())
  try {
    cores = execFileSync('nproc', { encoding: 'utf8' }).trim()
  } catch {
    // no coreutils: keep Node's count
  }
  const gitVersion = execFileSync('git', ['--version'], { encoding: 'utf8' }).trim().replace(/^git version /, '')
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')
  return [
    `- CPU: ${cores} × ${cpu} (nproc ${cores})`,
    `- Memory: ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `- OS: ${os.type()} ${os.release()} (${os.arch()})`,
    `- Node ${process.version}, git ${gitVersion}`,
    `- Load average at start: ${load}`,
  ].join('\n')
}
