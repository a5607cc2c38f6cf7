// Row-level security per org (issue 10): on PostgreSQL, work in an org's scope runs as
// takehome_app and sees that org's rows only, whatever its query forgot; the admin API runs
// every request so. The embedded PGlite keeps the application's filters alone: there the
// same policies exist, but the scope switches no role (README, "What RLS protects").
import { withOrgScope } from '@takehome/core'
import { createSourceRepo } from '@takehome/core/testing'
import { sql } from 'drizzle-orm'
import t from 'tap'
import { type Built, build, invited } from './helper.ts'

const onPostgres = Boolean(process.env.TEST_DATABASE_URL)

type Rows = Array<Record<string, unknown>>
const rowsOf = (result: unknown) => (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Rows

/** Which org a table's row belongs to, as SQL over the row `r`; tables without `org_id` reach it through their parent. */
const ORG_OF: Record<string, string> = {
  orgs: 'r.id',
  users: '(select m.org_id from org_members m where m.user_id = r.id limit 1)',
  github_repo_tokens: '(select c.org_id from candidate_repos c where c.repo_full_name = r.repo_full_name)',
}

/** Every table that holds an org's data: each with `org_id`, and those of ORG_OF. */
async function tenantTables(built: Built): Promise<string[]> {
  const rows = rowsOf(
    await built.db.execute(sql`
      select distinct c.table_name as name from information_schema.columns c
      join information_schema.tables t using (table_schema, table_name)
      where c.table_schema = 'public' and c.column_name = 'org_id' and t.table_type = 'BASE TABLE'`),
  )
  return [...rows.map((r) => String(r.name)), ...Object.keys(ORG_OF)].sort()
}

/** One org with a row in every tenant table: a submitted, reviewed candidate, a key, a template, a pending member, its emails. */
async function populatedOrg(built: Built, email: string) {
  const { owner, invitations } = await invited(built, createSourceRepo().dir, [email])
  const invitation = invitations[0]!
  const post = (url: string, payload: object, headers: Record<string, string> = owner.headers) => built.app.inject({ method: 'POST', url, headers, payload })
  const expect201 = async (what: string, res: Promise<{ statusCode: number; body: string }>) => {
    const answer = await res
    if (answer.statusCode !== 201 && answer.statusCode !== 200) throw new Error(`${what}: ${answer.statusCode} ${answer.body}`)
    return answer
  }
  await expect201('start', post(`/api/start/${invitation.token}`, {}, {}))
  await expect201('submit', post(`/api/submit/${invitation.token}`, {}, {}))
  await expect201('comment', post(`/api/invitations/${invitation.id}/comments`, { path: 'README.md', line: 1, body: 'Nice.' }))
  await expect201('feedback', post(`/api/invitations/${invitation.id}/feedback`, { rating: 4, summary: 'Solid.' }))
  await expect201('api key', post('/api/api-keys', { name: 'ci' }))
  await expect201('template', post('/api/email-templates', { kind: 'invite', name: 'Friendly', subject: 'Hi {candidate_name}', body: 'Start: {start_link}' }))
  await expect201('member', post('/api/members', { email: `reviewer-${email}`, role: 'reviewer' }))
  await built.drain()
  // GitHub mode's tables, filled as its webhook and its token minting would.
  const [repo] = rowsOf(await built.db.execute(sql`select id, repo_full_name from candidate_repos where org_id = ${owner.org.id}`))
  await built.db.execute(sql`
    insert into push_ledger (org_id, candidate_repo_id, delivery_id, ref, before_sha, after_sha, forced, commit_count, received_at)
    values (${owner.org.id}, ${repo!.id}, ${`delivery-${email}`}, 'refs/heads/main', ${'0'.repeat(40)}, ${'1'.repeat(40)}, false, 1, now())`)
  await built.db.execute(sql`
    insert into github_repo_tokens (repo_full_name, token_ciphertext, expires_at) values (${repo!.repo_full_name}, 'ciphertext', now() + interval '1 hour')`)
  return { owner, invitation }
}

t.test('row-level security per org', async (t) => {
  const built = await build(t)
  const a = await populatedOrg(built, 'ann@example.com')
  const b = await populatedOrg(built, 'bob@example.com')
  const orgA = a.owner.org.id
  const orgB = b.owner.org.id
  const tables = await tenantTables(built)
  t.ok(tables.length >= 21, `the tenant tables are found (${tables.join(', ')})`)

  await t.test('every tenant table has row-level security enabled and forced, and rows of both orgs here', async (t) => {
    for (const table of tables) {
      const [flags] = rowsOf(await built.db.execute(sql`select relrowsecurity, relforcerowsecurity from pg_class where oid = ${table}::regclass`))
      t.same(flags, { relrowsecurity: true, relforcerowsecurity: true }, `${table}: RLS enabled and forced`)
      const orgOf = ORG_OF[table] ?? 'r.org_id'
      const [counts] = rowsOf(
        await built.db.execute(
          sql.raw(`select count(*) filter (where ${orgOf} = '${orgA}')::int as a, count(*) filter (where ${orgOf} = '${orgB}')::int as b from ${table} r`),
        ),
      )
      t.ok(Number(counts!.a) > 0 && Number(counts!.b) > 0, `${table}: rows of both orgs (${counts!.a}, ${counts!.b}), so what follows is not vacuous`)
    }
  })

  if (!onPostgres) {
    await t.test('on PGlite the scope switches no role: the application filters separate orgs', async (t) => {
      const [who] = rowsOf(await withOrgScope(orgA, () => built.db.execute(sql`select current_user as role, count(*)::int as orgs from orgs`)))
      t.equal(who!.role, 'postgres', 'the embedded database has one user')
      t.equal(who!.orgs, 2, "an unfiltered query sees both orgs' rows")
    })
    return
  }

  await t.test('as takehome_app with org A set, an unfiltered query sees none of org B on every tenant table', async (t) => {
    for (const table of tables) {
      const orgOf = ORG_OF[table] ?? 'r.org_id'
      const [system] = rowsOf(await built.db.execute(sql.raw(`select count(*) filter (where ${orgOf} = '${orgA}')::int as mine from ${table} r`)))
      const [scoped] = await withOrgScope(orgA, async () =>
        rowsOf(await built.db.execute(sql.raw(`select count(*)::int as seen, count(*) filter (where ${orgOf} is distinct from '${orgA}')::int as others, current_user as role from ${table} r`))),
      )
      t.equal(scoped!.role, 'takehome_app', `${table}: runs as takehome_app`)
      t.equal(scoped!.others, 0, `${table}: none of org B's rows`)
      t.equal(scoped!.seen, system!.mine, `${table}: all of org A's rows (${system!.mine})`)
    }
  })

  await t.test('as takehome_app with no org set, every tenant table is empty', async (t) => {
    await built.db.transaction(async (tx) => {
      await tx.execute(sql`set local role takehome_app`)
      for (const table of tables) {
        const [row] = rowsOf(await tx.execute(sql.raw(`select count(*)::int as n from ${table}`)))
        t.equal(row!.n, 0, `${table}: no rows`)
      }
    })
  })

  await t.test("in org A's scope, org B's rows cannot be written, moved or made, nor any audit event changed", async (t) => {
    await withOrgScope(orgA, async () => {
      const updated = rowsOf(await built.db.execute(sql`update review_comments set body = 'changed' where org_id = ${orgB} returning id`))
      t.equal(updated.length, 0, "an update aimed at org B's comments changes none")
      const deleted = rowsOf(await built.db.execute(sql`delete from invitations where org_id = ${orgB} returning id`))
      t.equal(deleted.length, 0, "a delete aimed at org B's invitations deletes none")
      await t.rejects(
        built.db.execute(sql`update review_comments set org_id = ${orgB} where org_id = ${orgA}`),
        { cause: { code: '42501' } },
        "a row of org A cannot be handed to org B",
      )
      await t.rejects(
        built.db.execute(sql`insert into audit_events (org_id, kind, actor, target, meta) values (${orgB}, 'forged', 'user:x', 'x', '{}')`),
        { cause: { code: '42501' } },
        'a row cannot be made in org B',
      )
      await t.rejects(built.db.execute(sql`select count(*) from webhook_deliveries`), { cause: { code: '42501' } }, 'tables of no org are out of reach')
      await t.rejects(built.db.execute(sql`update audit_events set kind = 'changed' where org_id = ${orgA}`), { cause: { code: '42501' } }, "org A's own audit events cannot be changed")
      await t.rejects(built.db.execute(sql`delete from audit_events where org_id = ${orgA}`), { cause: { code: '42501' } }, 'or removed')
    })
    const [comments] = rowsOf(await built.db.execute(sql`select count(*)::int as n from review_comments where org_id = ${orgB} and body = 'Nice.'`))
    t.equal(comments!.n, 1, "org B's comment is as it was")
  })

  await t.test("the admin API's statements run as takehome_app in the actor's org, a candidate's in their invitation's org", async (t) => {
    // A probe on the comments table records who wrote each row, as the database saw it.
    await built.db.execute(sql`create table rls_probe (who text, org text)`)
    await built.db.execute(sql`grant insert on rls_probe to takehome_app`)
    await built.db.execute(sql`
      create function rls_probe() returns trigger language plpgsql as $$
      begin insert into rls_probe values (current_user, current_setting('app.org_id', true)); return new; end $$`)
    await built.db.execute(sql`create trigger rls_probe after insert on review_comments for each row execute function rls_probe()`)
    await built.db.execute(sql`create trigger rls_probe after insert on access_tokens for each row execute function rls_probe()`)
    const comment = await built.app.inject({
      method: 'POST',
      url: `/api/invitations/${b.invitation.id}/comments`,
      headers: b.owner.headers,
      payload: { path: 'README.md', line: 2, body: 'Again.' },
    })
    t.equal(comment.statusCode, 201)
    const late = await invited(built, createSourceRepo().dir, ['cy@example.com'])
    t.equal((await built.app.inject({ method: 'POST', url: `/api/start/${late.invitations[0]!.token}` })).statusCode, 200)
    const probe = rowsOf(await built.db.execute(sql`select who, org from rls_probe`))
    t.same(probe[0], { who: 'takehome_app', org: orgB }, "the reviewer's comment was written as takehome_app in org B")
    t.same(probe[1], { who: 'takehome_app', org: late.owner.org.id }, "the candidate's access token was written as takehome_app in their invitation's org")
  })
})

