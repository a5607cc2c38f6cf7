import { eq, gt, lte } from 'drizzle-orm'
import type { GitHost } from '../adapters/git-host.ts'
import { recordAudit } from '../audit.ts'
import type { Clock } from '../clock.ts'
import type { Db } from '../db/client.ts'
import { withOrgScope } from '../db/org-scope.ts'
import { accessTokens, assessments, candidateRepos, invitations, seeds } from '../db/schema/index.ts'
import { AppError, conflict } from '../errors.ts'
import { renderMarkdown } from '../markdown.ts'
import { isWellFormedToken, type TokenHasher } from '../tokens.ts'
import type { Lifecycle } from './lifecycle.ts'

export interface CandidateDeps {
  db: Db
  gitHost: GitHost
  tokens: TokenHasher
  clock: Clock
  lifecycle: Lifecycle
  /** The origin git and the credential helper talk to (`PUBLIC_URL`). */
  publicUrl: string
}

type Found = Awaited<ReturnType<typeof findInvitation>>

const invitationNotFound = () => new AppError(404, 'invitation_not_found', 'this invitation link is not valid')

/** The invitation a start link names, found across orgs: the link is the only key. */
async function findInvitation(db: Db, tokens: TokenHasher, token: string) {
  if (!isWellFormedToken('invitation', token)) throw invitationNotFound()
  const [row] = await db
    .select({ invitation: invitations, assessment: assessments, seed: seeds, repo: candidateRepos })
    .from(invitations)
    .innerJoin(assessments, eq(assessments.id, invitations.assessmentId))
    .innerJoin(seeds, eq(seeds.id, assessments.seedId))
    .leftJoin(candidateRepos, eq(candidateRepos.invitationId, invitations.id))
    .where(eq(invitations.startLinkTokenHash, tokens.hash(token)))
  if (!row) throw invitationNotFound()
  return row
}

/** Finds a start link's invitation, then runs `then` in its org's scope: the rest of the candidate's request is tenant work. */
function finder(db: Db, tokens: TokenHasher) {
  return async <T>(token: string, then: (found: Found) => Promise<T>): Promise<T> => {
    const found = await findInvitation(db, tokens, token)
    return withOrgScope(found.invitation.orgId, () => then(found))
  }
}

/**
 * The credential helper, for one clone only, answering only `get`. curl forwards git's
 * request (`protocol=…`, `host=…`) so the broker answers for the host git asked about: our
 * gateway gets the access token, GitHub's git host a token for this one repository.
 */
function credentialHelpers(credentialUrl: string) {
  return {
    sh: `!f() { test "$1" = get && curl -sS -G --data-urlencode "request@-" "${credentialUrl}"; }; f`,
    // PowerShell passes embedded double quotes to native programs unreliably, so its
    // variant uses none: single quotes are doubled inside a single-quoted string.
    powershell: `!f() { test $1 = get && curl -sS -G --data-urlencode request@- ''${credentialUrl}''; }; f`,
  }
}

/**
 * The clone commands. The empty helper first cuts the chain: a user's own helper neither
 * stores our short-lived credential nor answers in our place with a stale one. With a
 * remote host (GitHub), the same helper also opens the repository's own URL there: the
 * fallback for when our gateway cannot be reached.
 */
export function gitCommands(publicUrl: string, slug: string, accessToken: string, remoteCloneUrl?: string) {
  const cloneUrl = `${publicUrl}/r/${slug}.git`
  const credentialUrl = `${publicUrl}/git/credential?token=${accessToken}`
  const helper = credentialHelpers(credentialUrl)
  const clone = (url: string) => ({
    sh: `git clone -c credential.helper= -c 'credential.helper=${helper.sh}' ${url}`,
    powershell: `git clone -c credential.helper= -c 'credential.helper=${helper.powershell}' ${url}`,
  })
  const gateway = clone(cloneUrl)
  const remote = remoteCloneUrl === undefined ? null : clone(remoteCloneUrl)
  return {
    cloneUrl,
    credentialUrl,
    cloneCommand: gateway.sh,
    cloneCommandPowershell: gateway.powershell,
    remote: remote && { cloneUrl: remoteCloneUrl!, cloneCommand: remote.sh, cloneCommandPowershell: remote.powershell },
  }
}

/** URL-safe, readable, and not guessable from the invitation: `backend-exercise-3f9a1c0d2e`. */
function candidateSlug(tokens: TokenHasher, title: string, invitationId: string) {
  const words = title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '')
  return `${words || 'assessment'}-${tokens.hash(`slug:${invitationId}`).slice(0, 10)}`
}

/**
 * The candidate's side, reached only with a start link: view, Start, Submit. Deadlines
 * are enforced here at request time, whatever the sweeper has or has not done yet.
 */
export function createCandidateService({ db, gitHost, tokens, clock, lifecycle, publicUrl }: CandidateDeps) {
  const find = finder(db, tokens)
  // One repository creation per invitation at a time in this process; across processes
  // the unique index on candidate_repos.invitation_id and the idempotent git host decide.
  const creating = new Map<string, Promise<void>>()

  async function ensureRepo(found: Found, token: string): Promise<void> {
    if (found.repo) return
    const id = found.invitation.id
    const running = creating.get(id)
    if (running) return running
    const work = createRepo(found, token).finally(() => creating.delete(id))
    creating.set(id, work)
    return work
  }

  async function createRepo({ invitation, assessment, seed }: Found, token: string) {
    const seedSha = seed.latestMainSha
    if (!seedSha || !invitation.startedAt || !invitation.completeDeadline) {
      throw new AppError(500, 'seed_not_ready', 'the seed has no commit to start from')
    }
    const slug = candidateSlug(tokens, assessment.title, invitation.id)
    const repo = await gitHost.createCandidateRepo({
      seedRepoFullName: seed.seedRepoFullName,
      seedSha,
      slug,
      message: `Start of "${assessment.title}"\n\nCreated by Takehome from the seed at ${seedSha}.`,
      date: invitation.startedAt,
    })
    const [seedTree, baseTree] = await Promise.all([
      gitHost.treeOf(seed.seedRepoFullName, seedSha),
      gitHost.treeOf(repo.repoFullName, repo.baseSha),
    ])
    if (seedTree !== baseTree) {
      throw new AppError(500, 'repo_tree_mismatch', `base ${repo.baseSha} does not carry the tree of seed ${seedSha}`)
    }
    await db.transaction(async (tx) => {
      await tx
        .insert(candidateRepos)
        .values({
          orgId: invitation.orgId,
          invitationId: invitation.id,
          slug,
          seedShaPinned: seedSha,
          baseSha: repo.baseSha,
          repoFullName: repo.repoFullName,
          repoHtmlUrl: repo.htmlUrl,
          githubRepoId: repo.hostRepoId,
        })
        .onConflictDoNothing({ target: candidateRepos.invitationId })
      const [row] = await tx.select().from(candidateRepos).where(eq(candidateRepos.invitationId, invitation.id))
      const [issued] = await tx
        .insert(accessTokens)
        .values({
          orgId: invitation.orgId,
          invitationId: invitation.id,
          candidateRepoId: row!.id,
          tokenHash: tokens.hash(tokens.derive('access', token)),
          expiresAt: invitation.completeDeadline!,
        })
        .onConflictDoNothing({ target: accessTokens.tokenHash })
        .returning({ id: accessTokens.id })
      if (issued) {
        await recordAudit(tx, {
          orgId: invitation.orgId,
          kind: 'access_token.issued',
          actor: 'system',
          target: invitation.id,
          meta: { access_token_id: issued.id, repo: row!.slug, expires_at: invitation.completeDeadline!.toISOString() },
        })
      }
    })
  }

  /** Records what the clock says about this invitation before anyone looks at it. */
  async function settle(found: Found): Promise<Found> {
    const { invitation } = found
    const now = clock.now()
    const candidate = `candidate:${invitation.id}`
    if ((invitation.status === 'sent' || invitation.status === 'accepted') && now >= invitation.startDeadline) {
      await lifecycle.end(invitation.id, 'expired', {
        from: ['sent', 'accepted'],
        actor: 'system',
        guard: lte(invitations.startDeadline, now),
      })
    } else if (invitation.status === 'started' && invitation.completeDeadline && now >= invitation.completeDeadline) {
      const ended = await lifecycle.end(invitation.id, 'expired', {
        from: ['started'],
        actor: 'system',
        guard: lte(invitations.completeDeadline, now),
      })
      // The finalize job would record it too; the candidate looking now should see it now.
      if (ended) await lifecycle.captureFinal(invitation.id)
    } else if (invitation.status === 'sent') {
      await lifecycle.transition(invitation.id, ['sent'], { status: 'accepted', acceptedAt: now }, { actor: candidate })
    } else {
      return found
    }
    const [fresh] = await db.select().from(invitations).where(eq(invitations.id, invitation.id))
    const [repo] = await db.select().from(candidateRepos).where(eq(candidateRepos.invitationId, invitation.id))
    return { ...found, invitation: fresh!, repo: repo ?? null }
  }

  async function refresh(found: Found, token: string): Promise<Found> {
    await ensureRepo(found, token)
    const [repo] = await db.select().from(candidateRepos).where(eq(candidateRepos.invitationId, found.invitation.id))
    return { ...found, repo: repo ?? null }
  }

  function present({ invitation, assessment, repo }: Found, token: string) {
    const open = invitation.status === 'started' && repo
    const remote = gitHost.remote
    return {
      invitation,
      repo,
      assessment: {
        title: assessment.title,
        description: assessment.description,
        instructions: assessment.instructions,
        instructionsHtml: renderMarkdown(assessment.instructions),
        timeToCompleteSeconds: assessment.timeToCompleteSeconds,
      },
      git: open
        ? {
            ...gitCommands(publicUrl, repo.slug, tokens.derive('access', token), remote?.cloneUrl(repo.repoFullName)),
            // Only GitHub refuses them (without `workflows: write`); the local host takes any push.
            workflowChangesAllowed: !remote || assessment.allowWorkflowChanges,
          }
        : null,
    }
  }

  function refuse({ invitation }: Found): never {
    switch (invitation.status) {
      case 'revoked':
        throw conflict('invitation_revoked', 'this invitation was withdrawn')
      case 'expired':
        throw conflict(
          invitation.startedAt ? 'complete_deadline_passed' : 'start_deadline_passed',
          invitation.startedAt
            ? `the time to complete this assessment ended at ${invitation.completeDeadline?.toISOString()}; your work as of then is kept`
            : `the time to start this assessment ended at ${invitation.startDeadline.toISOString()}`,
        )
      default:
        throw conflict('not_started', 'start the assessment first')
    }
  }

  return {
    /** The start page. The first view accepts the invitation; a passed deadline is recorded now. */
    view: (token: string) =>
      find(token, async (invited) => {
        let found = await settle(invited)
        if (found.invitation.status === 'started') found = await refresh(found, token)
        return present(found, token)
      }),

    /** Start: pins the seed's current commit and creates the repository, once, however often it is clicked. */
    start: (token: string) =>
      find(token, async (invited) => {
        let found = await settle(invited)
        const { invitation, assessment } = found
        if (invitation.status === 'accepted' || invitation.status === 'sent') {
          const now = clock.now()
          const { invitation: current } = await lifecycle.transition(
            invitation.id,
            ['sent', 'accepted'],
            {
              status: 'started',
              startedAt: now,
              completeDeadline: new Date(now.getTime() + assessment.timeToCompleteSeconds * 1000),
              acceptedAt: invitation.acceptedAt ?? now,
            },
            { actor: `candidate:${invitation.id}`, guard: gt(invitations.startDeadline, now) },
          )
          found = { ...found, invitation: current }
        }
        if (found.invitation.status === 'started') return present(await refresh(found, token), token)
        if (found.invitation.status === 'submitted') return present(found, token)
        return refuse(found)
      }),

    /** Submit: records main as the final commit and closes the repository. Repeating it is harmless. */
    submit: (token: string) =>
      find(token, async (invited) => {
        const found = await settle(invited)
        const { invitation } = found
        if (invitation.status === 'started') {
          const now = clock.now()
          await lifecycle.end(invitation.id, 'submitted', {
            from: ['started'],
            actor: `candidate:${invitation.id}`,
            guard: gt(invitations.completeDeadline, now),
          })
        }
        const [current] = await db.select().from(invitations).where(eq(invitations.id, invitation.id))
        if (current!.status !== 'submitted') return refuse({ ...found, invitation: current! })
        const finalSha = await lifecycle.captureFinal(invitation.id)
        return { status: current!.status, submittedAt: current!.submittedAt!, finalSha }
      }),
  }
}

export type CandidateService = ReturnType<typeof createCandidateService>
