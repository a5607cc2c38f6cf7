import type { components } from '@octokit/openapi-types'
import { type CommitInfo, isAncestor, readCommit, readCommits, ZERO_SHA } from './git-read.ts'
import type { DoubleRepo } from './repos.ts'
import { botJson, type DoubleState, webhookContext } from './state.ts'

/** GitHub's push webhook lists at most this many commits (the 20 of its docs applies to timeline events only). */
const MAX_COMMITS = 2048

type PushCommit = components['schemas']['webhook-push']['commits'][number]

function commitJson(state: DoubleState, repo: DoubleRepo, c: CommitInfo, distinct: boolean): PushCommit {
  return {
    id: c.sha,
    tree_id: c.tree,
    distinct,
    message: c.message,
    timestamp: c.committer.date,
    url: `${state.webUrl}/${repo.fullName}/commit/${c.sha}`,
    author: { name: c.author.name, email: c.author.email },
    committer: { name: c.committer.name, email: c.committer.email },
    added: c.added,
    removed: c.removed,
    modified: c.modified,
  }
}

/**
 * The `push` webhooks for what one receive-pack updated, one per ref, given the lines the
 * post-receive hook wrote (`<old> <new> <ref>`).
 */
export async function pushWebhooks(state: DoubleState, repo: DoubleRepo, updates: string) {
  const webhooks: Array<{ event: string; payload: object }> = []
  for (const line of updates.split('\n')) {
    const [before, after, ref] = line.trim().split(' ')
    if (!before || !after || !ref) continue
    const created = before === ZERO_SHA
    const deleted = after === ZERO_SHA
    const forced = !created && !deleted && !(await isAncestor(repo.dir, before, after))
    // A new ref brings the commits no other ref has; an update, those since `before`.
    const range = created ? [after, '--not', `--exclude=${ref}`, '--all'] : [`${before}..${after}`]
    const commits = deleted ? [] : await readCommits(repo.dir, range, { max: MAX_COMMITS, reverse: true })
    const head = deleted ? undefined : await readCommit(repo.dir, after)
    const short = (sha: string) => sha.slice(0, 12)
    webhooks.push({
      event: 'push',
      payload: {
        ref,
        before,
        after,
        created,
        deleted,
        forced,
        base_ref: null,
        compare: created ? `${state.webUrl}/${repo.fullName}/commit/${short(after)}` : `${state.webUrl}/${repo.fullName}/compare/${short(before)}...${short(after)}`,
        commits: commits.map((c) => commitJson(state, repo, c, true)),
        head_commit: head ? commitJson(state, repo, head, commits.some((c) => c.sha === head.sha)) : null,
        // Pushed with an installation token: the app's bot pushed it.
        pusher: { name: botJson(state).login, email: null },
        repository: { ...state.repos.json(repo), pushed_at: Math.floor(Date.now() / 1000) },
        ...webhookContext(state),
      },
    })
  }
  return webhooks
}
