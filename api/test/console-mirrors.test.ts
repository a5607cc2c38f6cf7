// The web app reaches the API over HTTP only, so the few rules it must apply in the browser
// as the API does are written there again; these tests hold each copy to core's.
import { renderMarkdown as renderForCandidates, TEMPLATE_VARIABLES } from '@takehome/core'
import t from 'tap'
import { renderMarkdown as renderPreview } from '../../web/features/assessments/markdown.ts'
import { TEMPLATE_VARIABLES as consoleTemplateVariables } from '../../web/features/settings/template-variables.ts'

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

t.test('the template editor offers the placeholders the API accepts', async (t) => {
  t.same([...consoleTemplateVariables], [...TEMPLATE_VARIABLES])
})
