// The web app reaches the API over HTTP only, so the few rules it must apply in the browser
// as the API does are written there again; these tests hold each copy to core's.
import {
  MEMBER_INVITATION_TTL_MS,
  PASSWORD_RESET_TTL_MS,
  renderMarkdown as renderForCandidates,
  SIGNUP_CONFIRMATION_TTL_MS,
  TEMPLATE_VARIABLES,
} from '@takehome/core'
import t from 'tap'
import * as web from '../../web/features/account/link-lifetimes.ts'
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

t.test('the account pages say how long emailed links work as the API makes them', async (t) => {
  t.equal(web.MEMBER_INVITATION_TTL_MS, MEMBER_INVITATION_TTL_MS, 'member invitation')
  t.equal(web.SIGNUP_CONFIRMATION_TTL_MS, SIGNUP_CONFIRMATION_TTL_MS, 'sign-up confirmation')
  t.equal(web.PASSWORD_RESET_TTL_MS, PASSWORD_RESET_TTL_MS, 'password reset')
  t.equal(web.lifetimeInWords(MEMBER_INVITATION_TTL_MS), '7 days')
  t.equal(web.lifetimeInWords(SIGNUP_CONFIRMATION_TTL_MS), '24 hours')
  t.equal(web.lifetimeInWords(PASSWORD_RESET_TTL_MS), 'an hour')
})
