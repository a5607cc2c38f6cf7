// The pages emailed account links open, in a real browser against the real embedded-default
// process (scripts/start.ts) with SIGNUP=open and emails going to the Resend double: join an
// organisation from a member invitation, reset a password, sign up and confirm by email, log in.
import { startResendDouble } from '@takehome/core/testing'
import type { BrowserContext, Page } from 'playwright-core'
import t from 'tap'
import { launchChromium, requireWebBuild, startProduct, waitFor } from './helpers.ts'

requireWebBuild()

// One start-up of the real product (15-30 s on two busy cores), then many password hashes.
t.setTimeout(6 * 60_000)

const MAIL_CAP_MS = 60_000
const OWNER = { email: 'owner@example.com', password: 'a long password', org_name: 'Acme' }
const SCREENSHOTS = '/tmp/takehome-account'

const resend = await startResendDouble()
t.teardown(() => resend.close())
const { base, run, request } = await startProduct(t, {
  SIGNUP: 'open',
  RESEND_API_KEY: resend.apiKey,
  RESEND_API_URL: resend.url,
  EMAIL_FROM: 'Takehome <hiring@example.com>',
})
const owner = await request('POST', '/api/auth/signup', { body: OWNER })
if (owner.status !== 201) throw new Error(`owner sign-up answered ${owner.status}`)
const ownerCookie = owner.headers.getSetCookie()[0]!.split(';')[0]!
const browser = await launchChromium(t)

/** The link of the newest email to `to` whose link opens `page`, once the job has sent it. */
async function emailedLink(to: string, page: string): Promise<{ url: string; token: string }> {
  const pattern = new RegExp(`${base}${page}/([A-Za-z0-9_-]+)`)
  const found = await waitFor(MAIL_CAP_MS, async () =>
    resend.sent
      .filter((e) => [e.to].flat().includes(to))
      .map((e) => pattern.exec(e.text ?? ''))
      .filter((m) => m !== null)
      .at(-1),
  )
  if (!found) throw new Error(`no email to ${to} with a ${page} link within ${MAIL_CAP_MS} ms`)
  return { url: found[0], token: found[1]! }
}

async function inviteMember(email: string, role: string) {
  const res = await request('POST', '/api/members', { cookie: ownerCookie, body: { email, role } })
  if (res.status !== 201) throw new Error(`inviting ${email} answered ${res.status}: ${JSON.stringify(res.body)}`)
  return emailedLink(email, '/join')
}

/** Who the API says a cookie belongs to. */
async function me(cookie: string) {
  return request('GET', '/api/auth/me', { cookie })
}

/** The session cookie the browser holds for the product, as a Cookie header, with its attributes. */
async function browserSession(context: BrowserContext) {
  const cookie = (await context.cookies(base)).find((c) => c.name === 'takehome_session')
  return cookie && { header: `${cookie.name}=${cookie.value}`, cookie }
}

/** Every Referer the page's requests carried: the link pages must send none. */
function referersOf(page: Page): string[] {
  const referers: string[] = []
  page.on('request', (r) => {
    const referer = r.headers()['referer']
    if (referer) referers.push(referer)
  })
  return referers
}

// Next adds a role=alert route announcer of its own: pick ours by its words.
const alert = (page: Page, words: string | RegExp) => page.getByRole('alert').filter({ hasText: words })

const shoot = async (page: Page, name: string) => {
  const file = `${SCREENSHOTS}-${name}.png`
  await page.screenshot({ path: file, fullPage: true })
  t.comment(`screenshot: ${file}`)
}

t.test('an invited member creates their account on the join page and is logged in as them', async (t) => {
  const link = await inviteMember('bea@example.com', 'reviewer')
  const context = await browser.newContext({ viewport: { width: 1000, height: 1100 } })
  t.teardown(() => context.close())
  const page = await context.newPage()
  const referers = referersOf(page)

  const opened = await page.goto(link.url)
  t.equal(opened?.status(), 200)
  t.equal(opened?.headers()['referrer-policy'], 'no-referrer', 'the page is served with no-referrer')
  t.equal(await page.locator('meta[name="referrer"]').getAttribute('content'), 'no-referrer')
  t.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'You’re invited to join an organisation on Takehome')
  t.ok(await page.getByRole('heading', { name: 'I already have an account', level: 2 }).isVisible(), 'the existing-account form is offered')
  await shoot(page, 'join')

  await page.getByLabel('Your name').fill('Bea')
  await page.getByLabel('Choose a password').fill('short')
  await page.getByRole('button', { name: 'Create account and join' }).click()
  const tooShort = await page.getByLabel('Choose a password').evaluate((el: HTMLInputElement) => el.validity.tooShort || el.validity.valid === false)
  t.ok(tooShort, 'the browser holds back a password shorter than 10 characters')

  await page.getByLabel('Choose a password').fill('bea has a long password')
  await page.getByRole('button', { name: 'Create account and join' }).click()
  await page.getByText('You have joined Acme.').waitFor({ timeout: 30_000 })
  t.ok(await page.getByText('You are logged in as bea@example.com in Acme, with the role reviewer.').isVisible())
  t.ok(await page.getByRole('link', { name: '/docs' }).isVisible(), 'and where to go next')
  t.ok(await page.getByText('POST /api/api-keys').isVisible())
  await shoot(page, 'joined')

  const session = await browserSession(context)
  t.ok(session, 'the browser got a session cookie')
  t.equal(session?.cookie.httpOnly, true, 'HttpOnly')
  t.equal(session?.cookie.sameSite, 'Lax', 'SameSite=Lax')
  t.equal(session?.cookie.path, '/')
  t.ok((session?.cookie.expires ?? 0) > Date.now() / 1000 + 24 * 3600, 'lasting as long as the API made it')
  const who = await me(session!.header)
  t.equal(who.status, 200, "the browser's cookie is a working session")
  t.match(who.body, { user: { email: 'bea@example.com', name: 'Bea' }, org: { name: 'Acme' }, role: 'reviewer' })
  t.same(referers, [], 'no request carried a Referer')
  const members = await request('GET', '/api/members', { cookie: ownerCookie })
  t.ok(
    (members.body.members as Array<{ user: { email: string } }>).some((m) => m.user.email === 'bea@example.com'),
    'the owner sees the new member',
  )

  // The same link again, as someone else who got hold of it.
  const again = await browser.newContext()
  t.teardown(() => again.close())
  const second = await again.newPage()
  await second.goto(link.url)
  await second.getByLabel('Choose a password').fill('another long password')
  await second.getByRole('button', { name: 'Create account and join' }).click()
  const spent = alert(second, 'This link has already been used')
  await spent.waitFor({ timeout: 30_000 })
  t.match(await spent.textContent(), /Each link works once\. Ask the person who invited you to send a new invitation\./)
  t.equal(await second.getByRole('button', { name: 'Create account and join' }).count(), 0, 'with no form left to fill')
  t.equal(await browserSession(again), undefined, 'and no session')
  await shoot(second, 'join-spent')

  const logs = [...run.stdout, ...run.stderr].join('\n')
  t.notOk(logs.includes(link.token), 'the invitation token is in no log')
})

t.test('without JavaScript the join form still works (the no-Referer post is let through)', async (t) => {
  const link = await inviteMember('eve@example.com', 'viewer')
  const context = await browser.newContext({ javaScriptEnabled: false })
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(link.url)
  await page.getByLabel('Choose a password').fill('eve has a long password')
  await page.getByRole('button', { name: 'Create account and join' }).click()
  await page.getByText('You have joined Acme.').waitFor({ timeout: 30_000 })
  t.ok(page.url().endsWith(link.url.slice(base.length)), 'the page stays on its own URL')
  const session = await browserSession(context)
  t.equal((await me(session!.header)).body.user?.email, 'eve@example.com', 'the posted form created the account and its session')
})

t.test('the sign-up page; its emailed confirmation page does nothing on GET, its button creates the organisation', async (t) => {
  const carl = { email: 'carl@example.com', password: 'carl has a long password', org_name: 'Carl Co' }
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } })
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(`${base}/signup`)
  // The browser takes an address without a domain; the API does not.
  await page.getByLabel('Email').fill('carl@localhost')
  await page.getByLabel('Choose a password').fill(carl.password)
  await page.getByLabel('Organisation name').fill(carl.org_name)
  await page.getByRole('button', { name: 'Sign up' }).click()
  await page.getByText(/^Email must be an email address/).waitFor({ timeout: 30_000 })
  t.equal(await page.getByLabel('Email').getAttribute('aria-invalid'), 'true', 'the refusal is next to the email field')
  t.equal(await page.getByLabel('Organisation name').inputValue(), carl.org_name, 'what was typed is kept')
  t.equal(await page.getByLabel('Choose a password').inputValue(), '', 'except the password')
  await shoot(page, 'signup-refused')
  await page.getByLabel('Email').fill(carl.email)
  await page.getByLabel('Choose a password').fill(carl.password)
  await page.getByRole('button', { name: 'Sign up' }).click()
  await page.getByText(`We have sent an email to ${carl.email}.`).waitFor({ timeout: 30_000 })
  t.pass('an open sign-up is confirmed by email')
  const notice = page.getByRole('status').filter({ hasText: 'Check your email.' })
  t.ok(await notice.evaluate((el) => el === document.activeElement), 'the focus moves to the notice that replaced the form and its button')
  t.match(await notice.textContent(), /within 24 hours/, 'which says how long the link works')
  const link = await emailedLink(carl.email, '/signup/confirm')

  // A mail scanner follows the link; so does the person, before clicking.
  t.equal((await fetch(link.url)).status, 200)
  const opened = await page.goto(link.url)
  t.equal(opened?.headers()['referrer-policy'], 'no-referrer', 'the confirmation page is served with no-referrer')
  t.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Confirm your sign-up')
  const login = () => request('POST', '/api/auth/login', { body: { email: carl.email, password: carl.password } })
  t.equal((await login()).status, 401, 'opening the link created no account')
  t.equal(await browserSession(context), undefined, 'and no session')
  await shoot(page, 'confirm')

  await page.getByRole('button', { name: 'Confirm and create my organisation' }).click()
  await page.getByText('Your organisation Carl Co is ready.').waitFor({ timeout: 30_000 })
  const session = await browserSession(context)
  t.match((await me(session!.header)).body, { user: { email: carl.email }, org: { name: 'Carl Co' }, role: 'owner' }, 'the browser is logged in as the new owner')
  t.equal((await login()).status, 200, 'the account exists')

  // Logged in, a member invitation is one click.
  const invite = await inviteMember(carl.email, 'admin')
  await page.goto(invite.url)
  await page.getByRole('heading', { name: 'Join as carl@example.com' }).waitFor()
  await shoot(page, 'join-logged-in')
  await page.getByRole('button', { name: 'Join the organisation' }).click()
  await page.getByText('You have joined Acme.').waitFor({ timeout: 30_000 })
  const moved = await browserSession(context)
  t.match((await me(moved!.header)).body, { user: { email: carl.email }, org: { name: 'Acme' }, role: 'admin' }, 'the session moved to Acme')
  t.equal((await me(session!.header)).status, 401, 'replacing the session it had')
})

t.test('a sign-up confirmed after its address got an account another way says to log in', async (t) => {
  const gus = { email: 'gus@example.com', password: 'gus has a long password', org_name: 'Gus Ltd' }
  t.equal((await request('POST', '/api/auth/signup', { body: gus })).status, 202)
  const confirm = await emailedLink(gus.email, '/signup/confirm')
  const invite = await inviteMember(gus.email, 'viewer')
  const joined = await request('POST', '/api/auth/signup', { body: { invitation_token: invite.token, password: gus.password } })
  t.equal(joined.status, 201, 'the invitation made the account first')

  const page = await browser.newPage()
  t.teardown(() => page.close())
  await page.goto(confirm.url)
  await page.getByRole('button', { name: 'Confirm and create my organisation' }).click()
  const taken = alert(page, 'Your organisation could not be created')
  await taken.waitFor({ timeout: 30_000 })
  t.match(await taken.textContent(), /This email address already has an account\. Log in instead\./)
  t.notMatch(await taken.textContent(), /invitation/, 'not in the join page’s words')
})

t.test('an existing account joins with its email and password; a wrong password is said so', async (t) => {
  const dora = { email: 'dora@example.com', password: 'dora has a long password', org_name: 'Dora Ltd' }
  await request('POST', '/api/auth/signup', { body: dora })
  const confirm = await emailedLink(dora.email, '/signup/confirm')
  t.equal((await request('POST', '/api/auth/signup/confirm', { body: { token: confirm.token } })).status, 201)
  const link = await inviteMember(dora.email, 'viewer')

  const context = await browser.newContext()
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(link.url)
  await page.getByLabel('Email').fill(dora.email)
  await page.getByLabel('Password', { exact: true }).fill('not the password')
  await page.getByRole('button', { name: 'Log in and join' }).click()
  const wrong = alert(page, 'The invitation could not be accepted')
  await wrong.waitFor({ timeout: 30_000 })
  t.equal(await page.getByLabel('Email').inputValue(), dora.email, 'the email stays filled in')
  t.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'the password does not')

  await page.getByLabel('Password', { exact: true }).fill(dora.password)
  await page.getByRole('button', { name: 'Log in and join' }).click()
  await page.getByText('You have joined Acme.').waitFor({ timeout: 30_000 })
  const session = await browserSession(context)
  t.match((await me(session!.header)).body, { user: { email: dora.email }, org: { name: 'Acme' }, role: 'viewer' })
})

t.test('password reset: ask on the page, follow the emailed link, sessions end, log in with the new password', async (t) => {
  const fay = { email: 'fay@example.com', password: 'fay has a long password', org_name: 'Fay Inc' }
  await request('POST', '/api/auth/signup', { body: fay })
  const confirm = await emailedLink(fay.email, '/signup/confirm')
  const created = await request('POST', '/api/auth/signup/confirm', { body: { token: confirm.token } })
  const oldCookie = created.headers.getSetCookie()[0]!.split(';')[0]!
  t.equal((await me(oldCookie)).status, 200)

  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } })
  t.teardown(() => context.close())
  const page = await context.newPage()
  await page.goto(`${base}/login`)
  await page.getByRole('link', { name: 'Forgot your password?' }).click()
  await page.waitForURL(`${base}/reset-password`)
  await shoot(page, 'reset-request')
  await page.getByLabel('Email').fill(fay.email)
  await page.getByRole('button', { name: 'Email me a link' }).click()
  await page.getByText('Check your email.').waitFor({ timeout: 30_000 })
  t.ok(await page.getByText(`If an account exists for ${fay.email}, we have sent it a link`).isVisible())

  // An address without an account reads the same.
  const other = await browser.newPage()
  t.teardown(() => other.close())
  await other.goto(`${base}/reset-password`)
  await other.getByLabel('Email').fill('nobody@example.com')
  await other.getByRole('button', { name: 'Email me a link' }).click()
  await other.getByText('If an account exists for nobody@example.com, we have sent it a link').waitFor({ timeout: 30_000 })

  const link = await emailedLink(fay.email, '/reset-password')
  const opened = await page.goto(link.url)
  t.equal(opened?.headers()['referrer-policy'], 'no-referrer', 'the reset page is served with no-referrer')
  const password = page.getByLabel('New password', { exact: true })
  const again = page.getByLabel('New password again')
  await password.fill('a brand new password')
  await again.fill('a brand new passwerd')
  await again.blur()
  t.ok(await page.getByText('The two passwords do not match.').isVisible(), 'a mismatch is shown next to the field')
  t.equal(await again.getAttribute('aria-invalid'), 'true')
  await page.getByRole('button', { name: 'Change password' }).click()
  t.ok(await again.evaluate((el: HTMLInputElement) => el.validity.customError), 'and holds the form back')
  await shoot(page, 'reset')

  await again.fill('a brand new password')
  t.equal(await page.getByText('The two passwords do not match.').count(), 0, 'the message goes once they match')
  await page.getByRole('button', { name: 'Change password' }).click()
  await page.getByText('Password changed.').waitFor({ timeout: 30_000 })
  t.ok(await page.getByText('Every session of your account was signed out').isVisible())
  await shoot(page, 'reset-done')
  t.equal((await me(oldCookie)).status, 401, 'the session from before the reset has ended')

  await page.getByRole('link', { name: 'Log in with your new password' }).click()
  await page.waitForURL(`${base}/login`)
  await page.getByLabel('Email').fill(fay.email)
  await page.getByLabel('Password').fill(fay.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  const refused = alert(page, 'We could not log you in')
  await refused.waitFor({ timeout: 30_000 })
  t.match(await refused.textContent(), /The email or password is incorrect\./, 'the old password no longer works')

  await page.getByLabel('Password').fill('a brand new password')
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByText('You are logged in.').waitFor({ timeout: 30_000 })
  await shoot(page, 'login-done')
  const session = await browserSession(context)
  t.match((await me(session!.header)).body, { user: { email: fay.email }, org: { name: 'Fay Inc' } }, 'the login page logged the browser in')

  const reuse = await browser.newPage()
  t.teardown(() => reuse.close())
  await reuse.goto(link.url)
  await reuse.getByLabel('New password', { exact: true }).fill('yet another password')
  await reuse.getByLabel('New password again').fill('yet another password')
  await reuse.getByRole('button', { name: 'Change password' }).click()
  await alert(reuse, 'This link has already been used').waitFor({ timeout: 30_000 })
  t.ok(await reuse.getByRole('link', { name: 'new reset link' }).isVisible(), 'a spent reset link offers a new one')
  t.notOk([...run.stdout, ...run.stderr].join('\n').includes(link.token), 'the reset token is in no log')
})

t.test('the login page', async (t) => {
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } })
  t.teardown(() => page.close())
  await page.goto(`${base}/login`)
  t.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Log in')
  await shoot(page, 'login')
})
