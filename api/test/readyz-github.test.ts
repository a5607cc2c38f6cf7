// /readyz in GitHub App mode: ready only while the app is installed on the org with the
// permissions it needs, and otherwise a 503 saying what to fix.
import { startGitHubDouble } from '@takehome/core/testing'
import t from 'tap'
import { build } from './helper.ts'

t.test('/readyz names what is wrong with the GitHub App until it is fixed', async (t) => {
  const double = await startGitHubDouble()
  t.teardown(() => double.close())
  double.setInstallation({ installed: false })
  const built = await build(t, { github: double.config })

  const uninstalled = await built.app.inject({ method: 'GET', url: '/readyz' })
  t.equal(uninstalled.statusCode, 503)
  t.same(uninstalled.json(), {
    error: {
      code: 'git_host_not_ready',
      message: `the GitHub App is not installed on ${double.org}: install it from ${double.webUrl}/apps/${double.appSlug}/installations/new`,
    },
  })
})

t.test('/readyz is ready with the app installed and its permissions granted', async (t) => {
  const double = await startGitHubDouble({ permissions: { administration: 'write', contents: 'write', metadata: 'read' } })
  t.teardown(() => double.close())
  const built = await build(t, { github: double.config })
  const ready = await built.app.inject({ method: 'GET', url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ready', database: process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite', git_host: 'github' })
})

t.test('/readyz says which permission the app lacks', async (t) => {
  const double = await startGitHubDouble({ permissions: { contents: 'write', metadata: 'read' } })
  t.teardown(() => double.close())
  const built = await build(t, { github: double.config })
  const lacking = await built.app.inject({ method: 'GET', url: '/readyz' })
  t.equal(lacking.statusCode, 503)
  t.match(lacking.json(), { error: { code: 'git_host_not_ready', message: `the GitHub App lacks administration: write on ${double.org}: accept the new permissions in the organisation's settings (GitHub Apps → the app → review request), or edit the app's permissions` } })
})
