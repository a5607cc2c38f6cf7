import t from 'tap'
import { DEFAULT_INVITE_TEMPLATE, headerValue, renderTemplate } from '../src/email.ts'
import { renderMarkdown } from '../src/markdown.ts'

t.test('templates fill variables: raw in text, escaped in HTML, also inside links', async (t) => {
  const out = renderTemplate(
    { subject: 'Hi {candidate_name}', body: 'Hello **{candidate_name}**, [start]({start_link}) {unknown}' },
    { candidate_name: '<b>Eve</b> & co', start_link: 'https://th.test/start/thi_x?a=1&b=2' },
  )
  t.equal(out.subject, 'Hi <b>Eve</b> & co')
  t.match(out.text, 'Hello **<b>Eve</b> & co**')
  t.match(out.html, '<strong>&lt;b&gt;Eve&lt;/b&gt; &amp; co</strong>')
  t.match(out.html, 'href="https://th.test/start/thi_x?a=1&amp;b=2"')
  t.notMatch(out.html, '<b>Eve</b>')
  t.match(out.text, '{unknown}', 'unknown variables are left for the template editor to catch')
})

t.test('the default invite names the assessment, the link and the deadline', async (t) => {
  const out = renderTemplate(DEFAULT_INVITE_TEMPLATE, {
    candidate_name: 'Ada',
    assessment_title: 'Backend exercise',
    start_link: 'https://th.test/start/thi_abc',
    start_deadline: '2026-11-25 10:00 UTC',
  })
  t.match(out.subject, 'Backend exercise')
  t.match(out.text, 'https://th.test/start/thi_abc')
  t.match(out.text, '2026-11-25 10:00 UTC')
  t.notMatch(out.text, /\{[a-z_]+\}/, 'nothing left unfilled')
})

t.test('markdown renders without raw HTML or script links', async (t) => {
  const html = renderMarkdown('# Task\n<script>alert(1)</script>\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>')
  t.match(html, '<h1>Task</h1>')
  t.notMatch(html, '<script>')
  t.notMatch(html, '<img')
  t.notMatch(html, 'href="javascript:')
})

t.test('values never make a link other than http(s) or mailto, in markdown links, images or bare', async (t) => {
  const template = {
    subject: 'Hi',
    body: '[a]({candidate_name}) [b]({assessment_title} "title") ![c]({start_deadline}) [d]({start_link}) {complete_deadline}',
  }
  const out = renderTemplate(template, {
    candidate_name: 'javascript:alert(1)',
    assessment_title: ' JAVASCRIPT:alert(2)',
    start_deadline: 'data:image/svg+xml,<svg onload=alert(3)>',
    start_link: 'https://th.test/start/thi_x',
    complete_deadline: 'vbscript:msgbox(4)',
  })
  t.notMatch(out.html, /(?:href|src)="(?!https?:\/\/|mailto:)/i, 'every URL attribute left is http(s) or mailto')
  t.match(out.html, '<a>a</a>', 'the unsafe link keeps its text, without a target')
  t.match(out.html, '<a title="title">b</a>')
  t.match(out.html, '<a href="https://th.test/start/thi_x">d</a>')
  t.match(out.html, 'vbscript:msgbox(4)', 'a value outside a link stays text')
  t.match(renderTemplate({ subject: '', body: '[mail]({candidate_name})' }, { candidate_name: 'mailto:ada@example.com' }).html, 'href="mailto:ada@example.com"')
})

t.test('a subject is one header line whatever the template or the values hold', async (t) => {
  const out = renderTemplate({ subject: 'Hi {candidate_name}\r\nX-Template: 1', body: '' }, { candidate_name: 'Eve\r\nBcc: x@example.com\u2028\u0085\t\u0000y' })
  t.equal(out.subject, 'Hi Eve Bcc: x@example.com y X-Template: 1')
  t.equal(headerValue('\r\n  Title \n'), 'Title')
})
