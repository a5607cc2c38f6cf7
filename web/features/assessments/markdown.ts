import MarkdownIt from 'markdown-it'

// The preview must show exactly what the API renders for candidates (core/src/markdown.ts):
// raw HTML off, so nothing the author typed runs. markdown.test.ts holds the two to the same output.
const md = new MarkdownIt({ html: false, linkify: true, typographer: false })

export const renderMarkdown = (source: string | null | undefined) => (source ? md.render(source) : '')
