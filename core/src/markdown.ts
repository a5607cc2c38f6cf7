import MarkdownIt from 'markdown-it'

// Raw HTML off: instructions are written by admins but shown to anonymous candidates,
// and markdown-it's link validation already refuses javascript:/vbscript:/data: URLs.
const md = new MarkdownIt({ html: false, linkify: true, typographer: false })

export const renderMarkdown = (source: string | null | undefined): string => (source ? md.render(source) : '')

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!)
