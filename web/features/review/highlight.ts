'use client'

/**
 * Syntax colours for a file diff2html has rendered, as diff2html's own UI applies them
 * (its highlight.js build with the common languages, and its helpers that keep the
 * <ins>/<del> marks of changed words). A chunk of its own, requested as soon as the page's
 * scripts run, so it downloads while the diff does; the first file is drawn without it and
 * coloured once the browser is idle. A line is coloured from its text, which highlight.js escapes.
 */
const importHighlighter = () => Promise.all([import('diff2html/lib-esm/ui/js/highlight.js-slim'), import('diff2html/lib-esm/ui/js/highlight.js-helpers')])
let loaded: ReturnType<typeof importHighlighter> | undefined
const load = () => (loaded ??= importHighlighter())
// In the browser only: the server renders no diff.
if (typeof window !== 'undefined') load().catch(() => {})

/** Highlights `wrapper`'s lines unless `cancelled()` says it was replaced meanwhile. */
export async function highlightFile(wrapper: HTMLElement, cancelled: () => boolean) {
  const [{ hljs }, { closeTags, getLanguage, mergeStreams, nodeStream }] = await load()
  if (cancelled()) return
  const extension = wrapper.querySelector('.d2h-file-wrapper')?.getAttribute('data-lang')
  const language = extension ? getLanguage(extension) : 'plaintext'
  if (!hljs.getLanguage(language)) return
  for (const line of wrapper.querySelectorAll<HTMLElement>('.d2h-code-line-ctn')) {
    const text = line.textContent ?? ''
    const result = closeTags(hljs.highlight(text, { language, ignoreIllegals: true }))
    const marks = nodeStream(line)
    if (marks.length > 0) {
      const highlighted = document.createElement('div')
      highlighted.innerHTML = result.value
      result.value = mergeStreams(marks, nodeStream(highlighted), text)
    }
    line.classList.add('hljs')
    line.innerHTML = result.value
  }
}
