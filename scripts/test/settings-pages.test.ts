// The console's settings pages in a real browser against the real embedded-default process
// (scripts/start.ts): email templates with their live preview, members and their roles,
// API keys shown once (and copied without the Clipboard API); what a viewer is left with, and
// what an admin may not do to an owner. Every page is checked with
// axe-core, at 375 px for sideways scrolling, and photographed.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { launchChromium, pageChecker, requireWebBuild, startProduct, waitFor } from './helpers.ts'

requireWebBuild()

// One start-up of the real product (15-30 s on two busy cores), then every Settings page as three roles.
t.setTimeout(10 * 60_000)

// One start-up of the real product (15-30 s on two busy cores), then a handful of pages.
t.setTimeout(8 * 60_000)

const OWNER = { email: 'owner@example.com', password: 'a long password', org_name: 'Acme' }
const SCREENSHOTS = mkdtempSync(path.join(tmpdir(), 'takehome-settings-'))
const UI_WAIT = { timeout: 30_000 }
const MAIL_CAP_MS = 60_000

const { base, request } = await startProduct(t)
const signup = await request('POST', '/api/auth/signup', { body: OWNER })
if (signup.status !== 201) throw new Error(`sign-up answered ${signup.status}`)
const ownerCookie = signup.headers.getSetCookie()[0]!.split(';')[0]!

const browser = await launchChromium(t)
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
t.teardown(() => context.close())
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
const page = await context.newPage()
const checkPage = pageChecker(page, SCREENSHOTS)

/** A toast's words (Radix also repeats them in its screen-reader announcement). */
const toast = (words: string) => page.getByText(words).first()

interface Mail {
  kind: string
  to: string
  subject: string
  text: string
}

/** The newest member invitation emailed to `to`, once the job has sent it, with its join token. */
async function memberInviteTo(to: string): Promise<{ mail: Mail; token: string }> {
  const found = await waitFor(MAIL_CAP_MS, async () => {
    const { body } = await request('GET', '/api/mail', { cookie: ownerCookie })
    const mail = (body.messages as Mail[]).filter((m) => m.to === to && m.kind === 'member_invite').at(-1)
    const token = mail && new RegExp(`${base}/join/(thm_[0-9A-Za-z]+)`).exec(mail.text)?.[1]
    return mail && token ? { mail, token } : undefined
  })
  if (!found) throw new Error(`no member invitation to ${to} within ${MAIL_CAP_MS} ms`)
  return found
}

/** Creates the invited person's account through their emailed link; answers their session cookie. */
async function join(token: string, name: string, password: string): Promise<string> {
  const res = await request('POST', '/api/auth/signup', { body: { invitation_token: token, name, password } })
  if (res.status !== 201) throw new Error(`joining answered ${res.status}: ${JSON.stringify(res.body)}`)
  return res.headers.getSetCookie()[0]!.split(';')[0]!
}

/** A call with an API key, as a script makes it. */
const withKey = (key: string) => fetch(`${base}/api/members`, { headers: { authorization: `Bearer ${key}` } })

t.test('templates: /settings opens them; one is created with a live preview, refused with its input kept, edited and deleted', async (t) => {
  await page.goto(`${base}/settings`)
  await page.waitForURL(/\/login\?next=/, UI_WAIT)
  await page.getByLabel('Email').fill(OWNER.email)
  await page.getByLabel('Password').fill(OWNER.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.waitForURL(`${base}/settings/templates`, UI_WAIT)
  await page.getByText('No templates yet').waitFor(UI_WAIT)
  const nav = page.getByRole('navigation', { name: 'Settings' })
  t.same(await nav.getByRole('link').allTextContents(), ['Email templates', 'Members', 'API keys', 'Audit log', 'Data retention'], 'an owner sees every settings page')
  await checkPage(t, 'templates-empty')

  await page.getByRole('link', { name: 'New template' }).click()
  await page.waitForURL(`${base}/settings/templates/new`, UI_WAIT)
  const preview = page.getByRole('region', { name: 'Preview' })
  await preview.getByText('Subject: Your take-home assessment: Backend exercise').waitFor(UI_WAIT)
  t.pass('an empty draft previews what the organisation sends today')

  await page.getByLabel('Name').fill('Friendly invite')
  await page.getByLabel('Subject').fill('Hello {candidate_name}')
  await page.getByLabel('Body').fill('Hi {candidate_name}, **good luck**!\n\nStart here: {start_link}')
  await preview.getByText('Subject: Hello Ada Lovelace').waitFor(UI_WAIT)
  await preview.frameLocator('iframe').locator('strong', { hasText: 'good luck' }).waitFor(UI_WAIT)
  t.pass('the rendered email, as typed')
  await preview.getByRole('tab', { name: 'Text' }).click()
  t.match(await preview.locator('pre').textContent(), /Start here: https:\/\/takehome\.example\/start\//, 'the text version with the example link')
  await checkPage(t, 'template-new')

  await page.getByLabel('Body').fill('Hi {candidateName}, start here: {start_link}')
  await preview.getByText('This draft cannot be rendered').waitFor(UI_WAIT)
  await page.getByRole('button', { name: 'Create template' }).click()
  await page.locator('#template-body-error').getByText(/unknown template variables \{candidateName\}/).waitFor(UI_WAIT)
  t.equal(await page.getByLabel('Body').getAttribute('aria-invalid'), 'true', 'the body is marked')
  t.equal(await page.getByLabel('Name').inputValue(), 'Friendly invite', 'the name is kept')
  t.equal(await page.getByLabel('Body').inputValue(), 'Hi {candidateName}, start here: {start_link}', 'and the body as typed')

  await page.getByLabel('Body').fill('Hi {candidate_name}, start here: {start_link}')
  await page.getByRole('button', { name: 'Create template' }).click()
  await page.waitForURL(`${base}/settings/templates`, UI_WAIT)
  const row = page.getByRole('row').filter({ hasText: 'Friendly invite' })
  await row.waitFor(UI_WAIT)
  t.ok(await row.getByText('Hello {candidate_name}').isVisible(), 'the list shows the new template')

  await row.getByRole('link', { name: 'Friendly invite' }).click()
  await page.getByRole('heading', { level: 1, name: 'Edit “Friendly invite”' }).waitFor(UI_WAIT)
  await page.getByLabel('Subject').fill('Welcome, {candidate_name}, to {assessment_title}')
  await preview.getByText('Subject: Welcome, Ada Lovelace, to Backend exercise').waitFor(UI_WAIT)
  t.pass('the preview follows an edit')
  await checkPage(t, 'template-edit')
  await page.getByRole('button', { name: 'Save changes' }).click()
  await page.waitForURL(`${base}/settings/templates`, UI_WAIT)
  await row.getByText('Welcome, {candidate_name}, to {assessment_title}').waitFor(UI_WAIT)
  const stored = await request('GET', '/api/email-templates', { cookie: ownerCookie })
  t.match(stored.body.templates, [{ name: 'Friendly invite', subject: 'Welcome, {candidate_name}, to {assessment_title}' }], 'saved through the API')
  await checkPage(t, 'templates')

  await row.getByRole('link', { name: 'Friendly invite' }).click()
  await page.getByRole('button', { name: 'Delete template…' }).click()
  await page.getByRole('dialog', { name: 'Delete this template?' }).getByRole('button', { name: 'Delete' }).click()
  await page.waitForURL(`${base}/settings/templates`, UI_WAIT)
  await page.getByText('No templates yet').waitFor(UI_WAIT)
  t.pass('a deleted template leaves the list')
})

t.test('members: invite one (pending, emailed), cancel another, change a role; the last owner stays; remove a member', async (t) => {
  await page.goto(`${base}/settings/members`)
  const members = page.getByRole('table', { name: 'Members' })
  await members.getByRole('row').filter({ hasText: OWNER.email }).waitFor(UI_WAIT)

  const invite = page.getByRole('region', { name: 'Invite a teammate' })
  const pending = page.getByRole('region', { name: 'Pending invitations' })
  await invite.getByLabel('Email').fill('rita@example.com')
  await invite.getByLabel('Role').selectOption('admin')
  await invite.getByRole('button', { name: 'Send invitation' }).click()
  await toast('Invitation sent to rita@example.com').waitFor(UI_WAIT)
  const ritaInvited = pending.getByRole('row').filter({ hasText: 'rita@example.com' })
  await ritaInvited.waitFor(UI_WAIT)
  t.ok(await ritaInvited.getByText('Admin').isVisible(), 'the invitation is pending with its role')
  const { mail, token } = await memberInviteTo('rita@example.com')
  t.match(mail.text, /\/join\/thm_/, 'the mailbox holds the emailed /join link')

  await invite.getByLabel('Email').fill('pat@example.com')
  await invite.getByRole('button', { name: 'Send invitation' }).click()
  const patInvited = pending.getByRole('row').filter({ hasText: 'pat@example.com' })
  await patInvited.getByRole('button', { name: 'Cancel the invitation of pat@example.com' }).click()
  await page.getByRole('dialog', { name: 'Cancel this invitation?' }).getByRole('button', { name: 'Cancel invitation' }).click()
  await patInvited.waitFor({ state: 'detached', ...UI_WAIT })
  t.pass('a cancelled invitation leaves the pending list')

  const ritaCookie = await join(token, 'Rita', 'rita has a long password')
  await page.reload()
  const rita = members.getByRole('row').filter({ hasText: 'rita@example.com' })
  await rita.waitFor(UI_WAIT)
  await pending.getByText('No invitation waiting to be accepted.').waitFor(UI_WAIT)
  t.pass('an accepted invitation is no longer pending')
  const roleOf = async (email: string) => {
    const { body } = await request('GET', '/api/members', { cookie: ownerCookie })
    return (body.members as Array<{ user: { email: string }; role: string }>).find((m) => m.user.email === email)?.role
  }
  await page.getByLabel('Role of Rita').selectOption('reviewer')
  t.equal(await roleOf('rita@example.com'), 'admin', 'choosing a role in the list changes nothing yet')
  await rita.getByRole('button', { name: 'Change role of Rita to reviewer' }).click()
  await toast('Rita is now reviewer').waitFor(UI_WAIT)
  t.equal(await roleOf('rita@example.com'), 'reviewer', 'the Change role button does')

  const self = page.getByLabel(`Role of ${OWNER.email}`)
  await self.selectOption('admin')
  await page.getByRole('button', { name: `Change role of ${OWNER.email} to admin` }).click()
  await members.getByRole('alert').filter({ hasText: 'an organisation needs at least one owner' }).waitFor(UI_WAIT)
  t.equal(await self.inputValue(), 'owner', 'the last owner cannot step down, and the page says why')
  await members.getByRole('button', { name: `Remove ${OWNER.email}` }).click()
  const leave = page.getByRole('dialog', { name: 'Leave this organisation?' })
  await leave.getByRole('button', { name: 'Leave' }).click()
  await leave.getByText('an organisation needs at least one owner').waitFor(UI_WAIT)
  t.pass('nor leave: the API refuses and the dialog shows its message')
  await leave.getByRole('button', { name: 'Cancel' }).click()
  await checkPage(t, 'members')

  await page.getByLabel('Role of Rita').selectOption('owner')
  await rita.getByRole('button', { name: 'Change role of Rita to owner' }).click()
  await toast('Rita is now owner').waitFor(UI_WAIT)
  await self.selectOption('admin')
  await page.getByRole('button', { name: `Change role of ${OWNER.email} to admin` }).click()
  await toast('You are now admin').waitFor(UI_WAIT)
  await members.getByRole('combobox').first().waitFor({ state: 'detached', ...UI_WAIT })
  t.equal(await rita.getByRole('button', { name: 'Remove Rita' }).count(), 0, 'an owner who stepped down loses the owner controls at once')
  const ownerId = (await request('GET', '/api/auth/me', { cookie: ownerCookie })).body.user.id as string
  const restored = await request('PATCH', `/api/members/${ownerId}`, { cookie: ritaCookie, body: { role: 'owner' } })
  t.equal(restored.status, 200, 'Rita makes them owner again')
  await page.reload()
  await page.getByLabel('Role of Rita').waitFor(UI_WAIT)

  await rita.getByRole('button', { name: 'Remove Rita' }).click()
  await page.getByRole('dialog', { name: 'Remove Rita?' }).getByRole('button', { name: 'Remove' }).click()
  await rita.waitFor({ state: 'detached', ...UI_WAIT })
  const after = await request('GET', '/api/members', { cookie: ownerCookie })
  t.equal(after.body.members.length, 1, 'Rita is no longer a member')
})

t.test('API keys: a new key is shown once, works as a bearer token, is never shown again, and stops working once revoked', async (t) => {
  await page.goto(`${base}/settings/api-keys`)
  await page.getByText('No API keys yet').waitFor(UI_WAIT)
  await page.getByLabel('Name').fill('CI')
  await page.getByRole('button', { name: 'Create key' }).click()
  const dialog = page.getByRole('dialog', { name: 'API key “CI” created' })
  await dialog.waitFor(UI_WAIT)
  t.ok(await dialog.getByText('Copy it now: you will not see it again.').isVisible(), 'the dialog says it is shown once')
  const key = await dialog.getByLabel('API key', { exact: true }).inputValue()
  t.match(key, /^thk_[0-9A-Za-z]+$/, 'the key')
  await page.keyboard.press('Escape')
  await page.mouse.click(5, 5)
  t.ok(await dialog.getByLabel('API key', { exact: true }).isVisible(), 'neither Escape nor a click beside it loses the key')
  await dialog.getByRole('button', { name: 'Copy API key' }).click()
  t.equal(await page.evaluate(() => navigator.clipboard.readText()), key, 'Copy puts it on the clipboard')
  t.equal((await withKey(key)).status, 200, 'the API takes it as Authorization: Bearer')

  await dialog.getByRole('button', { name: 'I have copied it' }).click()
  await dialog.waitFor({ state: 'detached', ...UI_WAIT })
  const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'CI', exact: true }) })
  await row.getByText(`${key.slice(0, 8)}…${key.slice(-4)}`).waitFor(UI_WAIT)
  t.notOk((await page.content()).includes(key), 'closed, the key is nowhere in the page')
  await page.reload()
  await row.waitFor(UI_WAIT)
  t.notOk((await page.content()).includes(key), 'nor after a reload')
  t.match(await row.getByRole('cell').nth(3).textContent(), /^\d{1,2} \w{3} \d{4}, \d{2}:\d{2}$/, 'its last use is shown as a date and time')
  await checkPage(t, 'api-keys')

  await row.getByRole('button', { name: 'Revoke CI' }).click()
  await page.getByRole('dialog', { name: 'Revoke “CI”?' }).getByRole('button', { name: 'Revoke' }).click()
  await row.getByText('Revoked').waitFor(UI_WAIT)
  t.equal((await withKey(key)).status, 401, 'a revoked key is refused')
})

t.test('without the Clipboard API (as on plain http), Copy in the key dialog still puts the key on the clipboard', async (t) => {
  const plainContext = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  t.teardown(() => plainContext.close())
  await plainContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
  // The console's code then leaves navigator.clipboard alone; the test still reads the clipboard through it.
  // Given as text: a function compiled by tsx carries esbuild's __name helper, unknown in the page.
  await plainContext.addInitScript({ content: "Object.defineProperty(window, 'isSecureContext', { get: () => false })" })
  const [cookieName, ...cookieValue] = ownerCookie.split('=')
  await plainContext.addCookies([{ name: cookieName!, value: cookieValue.join('='), url: base }])
  const plain = await plainContext.newPage()
  await plain.goto(`${base}/settings/api-keys`)
  await plain.getByLabel('Name').fill('Plain http')
  await plain.getByRole('button', { name: 'Create key' }).click()
  const dialog = plain.getByRole('dialog', { name: 'API key “Plain http” created' })
  await dialog.waitFor(UI_WAIT)
  t.equal(await plain.evaluate(() => window.isSecureContext), false, 'the page sees no secure context')
  const key = await dialog.getByLabel('API key', { exact: true }).inputValue()
  await dialog.getByRole('button', { name: 'Copy API key' }).click()
  await plain.getByText('API key copied').first().waitFor(UI_WAIT)
  t.equal(await plain.evaluate(() => navigator.clipboard.readText()), key, 'the copy command put the key on the clipboard')
})

t.test('a viewer reads the settings with no control to change them; an admin may not touch an owner', async (t) => {
  const invited = await request('POST', '/api/members', { cookie: ownerCookie, body: { email: 'vic@example.com', role: 'viewer' } })
  t.equal(invited.status, 201, 'the owner invites a viewer')
  const template = await request('POST', '/api/email-templates', {
    cookie: ownerCookie,
    body: { kind: 'reminder', name: 'Nudge', subject: 'Still time, {candidate_name}', body: 'Your deadline: {complete_deadline}' },
  })
  t.equal(template.status, 201, 'and writes a template for them to read')
  await join((await memberInviteTo('vic@example.com')).token, 'Vic', 'vic has a long password')

  const viewerContext = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  t.teardown(() => viewerContext.close())
  const viewer = await viewerContext.newPage()
  const checkViewerPage = pageChecker(viewer, SCREENSHOTS)
  await viewer.goto(`${base}/settings`)
  await viewer.waitForURL(/\/login\?next=/, UI_WAIT)
  await viewer.getByLabel('Email').fill('vic@example.com')
  await viewer.getByLabel('Password').fill('vic has a long password')
  await viewer.getByRole('button', { name: 'Log in' }).click()
  await viewer.waitForURL(`${base}/settings/templates`, UI_WAIT)
  // The shell draws its menu once it knows who is signed in: wait for it, as a reader would.
  await viewer.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Settings' }).waitFor(UI_WAIT)
  t.pass('Settings is in the menu')
  t.same(
    await viewer.getByRole('navigation', { name: 'Settings' }).getByRole('link').allTextContents(),
    ['Email templates', 'Members', 'Data retention'],
    'no API keys page, no audit log',
  )
  await viewer.getByRole('link', { name: 'Nudge' }).click()
  await viewer.getByRole('region', { name: 'Preview' }).getByText('Subject: Still time, Ada Lovelace').waitFor(UI_WAIT)
  t.equal(await viewer.getByLabel('Subject').getAttribute('readonly'), '', 'the template reads only')
  t.equal(await viewer.getByRole('button', { name: /Save|Delete|Create/ }).count(), 0, 'with nothing to save or delete')
  await viewer.goto(`${base}/settings/templates`)
  await viewer.getByRole('link', { name: 'Nudge' }).waitFor(UI_WAIT)
  t.equal(await viewer.getByRole('link', { name: 'New template' }).count(), 0, 'no new template')

  await viewer.goto(`${base}/settings/members`)
  await viewer.getByRole('row').filter({ hasText: 'vic@example.com' }).waitFor(UI_WAIT)
  t.equal(await viewer.getByRole('row').filter({ hasText: OWNER.email }).getByText('Owner', { exact: true }).count(), 1, 'roles read as words')
  t.equal(await viewer.getByRole('region', { name: 'Invite a teammate' }).count(), 0, 'no invitation form')
  t.equal(await viewer.getByRole('region', { name: 'Pending invitations' }).count(), 0, 'no pending invitations')
  t.equal(await viewer.getByRole('combobox').count(), 0, 'no role to change')
  t.equal(await viewer.getByRole('button', { name: /Remove/ }).count(), 0, 'nobody to remove')
  await checkViewerPage(t, 'members-viewer')

  await viewer.goto(`${base}/settings/api-keys`)
  await viewer.getByText('Only owners and admins manage API keys').waitFor(UI_WAIT)
  t.equal(await viewer.getByRole('button', { name: 'Create key' }).count(), 0, 'no key to create')

  for (const [email, role] of [
    ['ada@example.com', 'admin'],
    ['olga@example.com', 'owner'],
    ['ned@example.com', 'reviewer'],
  ]) {
    const sent = await request('POST', '/api/members', { cookie: ownerCookie, body: { email, role } })
    t.equal(sent.status, 201, `the owner invites ${email} as ${role}`)
  }
  const adaCookie = await join((await memberInviteTo('ada@example.com')).token, 'Ada', 'ada has a long password')
  const adminContext = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  t.teardown(() => adminContext.close())
  const [cookieName, ...cookieValue] = adaCookie.split('=')
  await adminContext.addCookies([{ name: cookieName!, value: cookieValue.join('='), url: base }])
  const admin = await adminContext.newPage()
  await admin.goto(`${base}/settings/members`)
  const invite = admin.getByRole('region', { name: 'Invite a teammate' })
  await invite.getByLabel('Role').waitFor(UI_WAIT)
  t.same(await invite.getByLabel('Role').locator('option').allTextContents(), ['Admin', 'Reviewer', 'Viewer'], 'an admin invites anyone but an owner')
  const memberRow = (email: string) => admin.getByRole('table', { name: 'Members' }).getByRole('row').filter({ hasText: email })
  await memberRow('vic@example.com').getByRole('button', { name: 'Remove Vic' }).waitFor(UI_WAIT)
  t.equal(await memberRow(OWNER.email).getByRole('button', { name: /Remove/ }).count(), 0, 'removes a viewer, not an owner')
  const invitationRow = (email: string) => admin.getByRole('table', { name: 'Pending invitations' }).getByRole('row').filter({ hasText: email })
  await invitationRow('ned@example.com').getByRole('button', { name: 'Cancel the invitation of ned@example.com' }).waitFor(UI_WAIT)
  t.equal(await invitationRow('olga@example.com').count(), 1, "the owner's invitation is listed")
  t.equal(await invitationRow('olga@example.com').getByRole('button', { name: /Cancel/ }).count(), 0, 'and only an owner may cancel it')
  t.equal(await admin.getByRole('combobox', { name: /^Role of/ }).count(), 0, 'an admin changes no role')
})
