import type { TemplateKind } from './db/schema/index.ts'
import { escapeHtml, renderMarkdown } from './markdown.ts'

export const TEMPLATE_VARIABLES = [
  'candidate_name',
  'assessment_title',
  'start_link',
  'start_deadline',
  'complete_deadline',
] as const
export type TemplateVariables = Partial<Record<(typeof TEMPLATE_VARIABLES)[number], string>>

export const DEFAULT_INVITE_TEMPLATE = {
  subject: 'Your take-home assessment: {assessment_title}',
  body: [
    'Hi {candidate_name},',
    '',
    'You are invited to the take-home assessment **{assessment_title}**.',
    '',
    'Open your start page to read the instructions and begin: {start_link}',
    '',
    'Please start before {start_deadline}. When you click Start you get a private git repository,',
    'and the time to complete the work begins.',
  ].join('\n'),
}

/** What an org sends for a kind until it sets a default template of its own. */
export const DEFAULT_TEMPLATES: Record<TemplateKind, { subject: string; body: string }> = {
  invite: DEFAULT_INVITE_TEMPLATE,
  // One reminder serves both deadlines: before the start deadline and before the complete one.
  reminder: {
    subject: 'Reminder: your take-home assessment {assessment_title}',
    body: [
      'Hi {candidate_name},',
      '',
      'This is a reminder about your take-home assessment **{assessment_title}**.',
      '',
      'Your start page, with the instructions and (once started) your repository: {start_link}',
      '',
      '- Deadline to start: {start_deadline}',
      '- Deadline to submit: {complete_deadline}',
    ].join('\n'),
  },
  follow_up: {
    subject: 'Thank you for your work on {assessment_title}',
    body: [
      'Hi {candidate_name},',
      '',
      'Thank you for completing the take-home assessment **{assessment_title}**.',
      '',
      'Our team is reviewing your submission and will be in touch about the next steps.',
    ].join('\n'),
  },
}

const VARIABLE = /\{([a-z_]+)\}|%7B([a-z_]+)%7D/g

// Anything that looks meant as a placeholder, including the near misses renderTemplate
// would leave unfilled in a candidate's inbox: `{candidateName}`, `{ start_link }`, `{{candidate_name}}`.
const PLACEHOLDER = /\{+\s*[A-Za-z_][\w.-]*\s*\}+/g
const KNOWN = new Set<string>(TEMPLATE_VARIABLES.map((name) => `{${name}}`))

/** The placeholders in `text` that are not a `{variable}` of TEMPLATE_VARIABLES, as written, each once. */
export function unknownTemplateVariables(text: string): string[] {
  return [...new Set(text.match(PLACEHOLDER) ?? [])].filter((placeholder) => !KNOWN.has(placeholder))
}

/**
 * A value fit for an email header (a subject, a display name): line breaks and other
 * control characters become a space, so no value can end its header and start another.
 * The API refuses them in names and titles already; this holds for anything else.
 */
export const headerValue = (value: string) => value.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').trim()

// markdown-it writes every URL attribute as ` href="…"` / ` src="…"`, escaped, and
// escapes quotes in text, so this finds exactly the URLs of the rendered HTML.
const URL_ATTRIBUTE = / (?:href|src)="([^"]*)"/g
const SAFE_URL = /^(?:https?:\/\/|mailto:)/i

/**
 * Drops every URL attribute that is not http(s) or mailto. markdown-it checks the links
 * a template spells out, but not what a value turns `[x]({candidate_name})` into, after
 * rendering: a value must not become a `javascript:` link.
 */
const safeUrls = (html: string) => html.replace(URL_ATTRIBUTE, (attribute, url: string) => (SAFE_URL.test(url) ? attribute : ''))

/** True when `offset` in rendered HTML lies between an `<a …>` and its `</a>`. */
const insideLink = (html: string, offset: number) => html.lastIndexOf('<a ', offset) > html.lastIndexOf('</a>', offset)

/**
 * Renders a template to subject, plain text and HTML. Markdown is rendered first and the
 * values put in afterwards, HTML-escaped, so a candidate's name can never become markup.
 * A `*_link` variable written as bare text (not already inside a markdown link) becomes a
 * clickable link in the HTML, as the same URL is in the plain text. Links end up http(s)
 * or mailto only, and the subject is one header line whatever the values hold.
 */
export function renderTemplate(template: { subject: string; body: string }, vars: TemplateVariables) {
  type Place = { name: string; inHref: boolean; offset: number; all: string }
  const fill = (text: string, escape: (value: string, place: Place) => string) =>
    text.replace(VARIABLE, (whole, a: string | undefined, b: string | undefined, offset: number, all: string) => {
      const name = (a ?? b)!
      const value = vars[name as keyof TemplateVariables]
      // `%7B…%7D` is how markdown-it writes `{…}` inside an href.
      return value === undefined ? whole : escape(value, { name, inHref: a === undefined, offset, all })
    })
  const toHtml = (value: string, { name, inHref, offset, all }: Place) =>
    name.endsWith('_link') && !inHref && /^https?:\/\/\S+$/i.test(value) && !insideLink(all, offset)
      ? `<a href="${escapeHtml(value)}">${escapeHtml(value)}</a>`
      : escapeHtml(value)
  return {
    subject: headerValue(fill(template.subject, (v) => v)),
    text: fill(template.body, (v) => v),
    html: safeUrls(fill(renderMarkdown(template.body), toHtml)),
  }
}
