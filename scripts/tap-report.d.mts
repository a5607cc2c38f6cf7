export interface NotRun {
  kind: 'skip' | 'todo'
  /** `file › subtest › test` */
  test: string
  reason: string
}
export function tapCounts(out: string): { total: number; pass: number; fail: number; skip: number; todo: number } | undefined
export function notRun(out: string): NotRun[]
export interface Failure {
  /** `file › subtest › test` */
  test: string
  /** The first lines of its YAML diagnostics. */
  diagnostics: string[]
}
export function failures(out: string, options?: { diagnosticLines?: number }): Failure[]
export function failureReport(runs: Array<{ label: string; out: string }>, options?: { limit?: number }): string
export function underCI(env?: NodeJS.ProcessEnv | Record<string, string | undefined>): boolean
export function notRunReport(
  runs: Array<{ label: string; out: string }>,
  skippedPasses: Array<{ label: string; reason: string }>,
  options: { ci: boolean },
): { text: string; failures: number }
