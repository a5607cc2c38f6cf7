import t from 'tap'
import { returnPath } from './return-to'

const ORIGIN = 'https://takehome.example'

t.test('a page of this site is returned to, with its query and hash', async (t) => {
  t.equal(returnPath('/seeds', ORIGIN), '/seeds')
  t.equal(returnPath('/assessments/1?tab=invitations#row-2', ORIGIN), '/assessments/1?tab=invitations#row-2')
  t.equal(returnPath('/a/../review/x', ORIGIN), '/review/x')
})

t.test('anything that leaves the site, or is no path, is ignored', async (t) => {
  for (const next of [null, '', 'seeds', 'https://evil.example/', '//evil.example/login', '/\\evil.example', '/.//evil.example/login', '/..//evil.example', '/%2e//evil.example', 'javascript:alert(1)']) {
    t.equal(returnPath(next, ORIGIN), undefined, JSON.stringify(next))
  }
})
