/** One candidate to invite, as POST /api/invitations takes them. */
export interface Candidate {
  email: string
  name?: string
}

/** A line that could not be read as a candidate, by its number (1-based) and text. */
export interface BadRow {
  line: number
  text: string
  message: string
}

export interface ParsedCandidates {
  candidates: Array<Candidate & { line: number; text: string }>
  bad: BadRow[]
}

// As the API checks (zod's email, at most 254 characters): near enough to catch typos here,
// and the API still has the last word.
const EMAIL = /^[^\s@,;<>"]+@[^\s@,;<>"]+\.[^\s@,;<>"]+$/
const MAX_NAME = 200

/** A line's cells, split at commas, semicolons or tabs outside double quotes (a spreadsheet's CSV quotes "Lovelace, Ada"). */
function cellsOf(line: string): string[] {
  const cells: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (c === '"' && quoted && line[i + 1] === '"') {
      cell += '"'
      i++
    } else if (c === '"') quoted = !quoted
    else if (!quoted && (c === ',' || c === ';' || c === '\t')) {
      cells.push(cell.trim())
      cell = ''
    } else cell += c
  }
  return [...cells, cell.trim()]
}

/**
 * Pasted text or a CSV file: one candidate per line, either an email alone or
 * `name,email` (a CSV's `name,email` header row is skipped). Every line that is not a
 * candidate is reported with its number; the same email twice is kept once.
 */
export function parseCandidates(input: string): ParsedCandidates {
  const result: ParsedCandidates = { candidates: [], bad: [] }
  const seen = new Set<string>()
  input.split(/\r?\n/).forEach((raw, i) => {
    const text = raw.trim()
    const line = i + 1
    if (text === '') return
    const cells = cellsOf(text)
    if (i === 0 && cells.some((c) => c.toLowerCase() === 'email')) return
    let name: string | undefined
    let email: string
    if (cells.length === 1) email = cells[0]!
    else if (cells.length === 2) [name, email] = [cells[0] || undefined, cells[1]!]
    else return result.bad.push({ line, text, message: 'expected an email, or a name and an email separated by a comma' })
    if (!EMAIL.test(email) || email.length > 254) return result.bad.push({ line, text, message: `“${email}” is not an email address` })
    if (name && name.length > MAX_NAME) return result.bad.push({ line, text, message: `the name is longer than ${MAX_NAME} characters` })
    const key = email.toLowerCase()
    if (seen.has(key)) return
    seen.add(key)
    result.candidates.push({ email, ...(name ? { name } : {}), line, text })
  })
  return result
}
