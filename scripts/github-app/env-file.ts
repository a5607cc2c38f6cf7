// The `.env` file the setup writes: read as Node's own `--env-file` loader reads it, and
// merged line by line, so a user's other variables, comments and order survive.
import { randomBytes } from 'node:crypto'
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { parseEnv } from 'node:util'

/** The file's variables as Node parses them; an absent file has none. */
export function readEnvFile(file: string): Record<string, string> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw err
  }
  return Object.fromEntries(Object.entries(parseEnv(text)).filter((entry): entry is [string, string] => entry[1] !== undefined))
}

const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/

/**
 * `content` with every assignment to a key of `values` removed (a quoted value may span
 * lines) and the defined values appended; keys mapped to undefined are only removed.
 */
export function mergeEnv(content: string, values: Record<string, string | undefined>): string {
  const kept: string[] = []
  let closingQuote: string | undefined
  for (const line of content.split('\n')) {
    if (closingQuote !== undefined) {
      if (line.includes(closingQuote)) closingQuote = undefined
      continue
    }
    const match = ASSIGNMENT.exec(line)
    if (!match || !(match[1]! in values)) {
      kept.push(line)
      continue
    }
    const value = match[2]!
    const quote = value[0]
    if ((quote === '"' || quote === "'" || quote === '`') && !value.slice(1).includes(quote)) closingQuote = quote
  }
  while (kept.length > 0 && kept.at(-1)!.trim() === '') kept.pop()
  const added = Object.entries(values).flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${value}`]))
  return [...kept, ...added].join('\n') + '\n'
}

/**
 * One value as a `.env` line holds it. Single quotes keep everything literal (double quotes
 * would turn a `\n` inside a secret into a newline); plain words need none.
 */
export function envValue(value: string): string {
  if (/^[A-Za-z0-9_.:/@+-]*$/.test(value)) return value
  if (!/['\n\r]/.test(value)) return `'${value}'`
  throw new Error('a value holds both a single quote and characters that need quoting: it cannot be written to .env safely')
}

/** A PEM on one line: Node's loader turns `\n` inside double quotes back into newlines. */
export function envPem(pem: string): string {
  return `"${pem.trim().replace(/\r?\n/g, '\\n')}"`
}

/**
 * Written under a temporary name and renamed, so readers never see half a file, and created
 * with mode 0600 whatever the old file's mode was: it holds secrets.
 */
export function writePrivateFile(file: string, text: string) {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`
  try {
    writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' })
    renameSync(temporary, file)
  } catch (err) {
    rmSync(temporary, { force: true })
    throw err
  }
}
