// The console previews an assessment's instructions in the browser while they are typed
// (web/features/assessments/markdown.ts); the candidate's start page shows what the API
// renders (core). The preview is only honest if both give the same HTML.
import { renderMarkdown as renderForCandidates } from '@takehome/core'
import t from 'tap'
import { renderMarkdown as renderPreview } from '../../web/features/assessments/markdown.ts'

t.test("the console's preview renders instructions as the API renders them for candidates", async (t) => {
  const samples = [
    '# Task\n\nBuild **a queue** with `retry`.\n\n- one\n- two\n\n1. first\n',
    'See https://example.com/docs and [the spec](https://example.com/spec "Spec").',
    '<script>alert(1)</script> <b>bold?</b>',
    '[bad](javascript:alert(1)) ![img](data:image/png;base64,AAAA)',
    '```ts\nconst a = "<b>"\n```\n\n> quoted -- "text"... (c)',
    '| a | b |\n|---|---|\n| 1 | 2 |',
  ]
  for (const sample of samples) t.equal(renderPreview(sample), renderForCandidates(sample), JSON.stringify(sample.slice(0, 30)))
  t.notMatch(renderPreview(samples[2]), /<script>/, 'raw HTML is escaped')
  t.equal(renderPreview(null), '')
  t.equal(renderPreview(''), '')
})
