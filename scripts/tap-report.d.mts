export interface NotRun {
  kind: 'skip' | 'todo'
  /** `file › subtest › test` */
  test: string
  reason: string
}
export function tapCounts(out: string): { total: number; pass: number; fail: number; skip: number; todo: number } | undefined
export function notRun(out: string): NotRun[]
export function underCI(env?: NodeJS.ProcessEnv | Record<string, string | undefined>): boolean
export function notRunReport(
  runs: Array<{ label: string; out: string }>,
  skippedPasses: Array<{ label: string; reason: string }>,
  options: { ci: boolean },
): { text: string; failures: number }
