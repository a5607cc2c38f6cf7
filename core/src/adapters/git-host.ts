/**
 * Where seed and candidate repositories live. The embedded default keeps bare
 * repositories under DATA_DIR/git; the GitHub App host implements the same contract.
 * Adapters throw AppError (422 for a source we cannot read), never library errors.
 */
export interface SeedMirror {
  repoFullName: string
  sourceDefaultBranch: string
  headSha: string
}

export interface CandidateRepo {
  repoFullName: string
  /** The repository's one root commit; its tree is the seed's tree at the pinned SHA. */
  baseSha: string
}

export interface Commit {
  sha: string
  message: string
  authorName: string
  authorEmail: string
  authoredAt: Date
}

export interface FileChange {
  path: string
  /** The path before a rename or copy; equal to `path` otherwise. */
  oldPath: string
  /** Null for binary files, whose lines git does not count. */
  additions: number | null
  deletions: number | null
  /** This file's part of the unified diff. */
  patch: string
}

export interface Diff {
  /** The whole unified diff. */
  patch: string
  files: FileChange[]
}

export interface GitHost {
  readonly kind: 'local' | 'github'
  /** Copies the source's default branch into a new seed repository's `main`. */
  mirrorSeed(input: { seedId: string; sourceUrl: string }): Promise<SeedMirror>
  /** Fetches the source again and moves the seed's `main` to its default branch. */
  syncSeed(input: { repoFullName: string; sourceUrl: string }): Promise<SeedMirror>
  removeSeed(repoFullName: string): Promise<void>
  /**
   * Creates the candidate repository as one root commit with the seed's tree at `seedSha`
   * (the seed's history is not exposed). Idempotent: a repository already created under
   * `slug` is returned as it is, so a retry after a crash never makes a second one.
   */
  createCandidateRepo(input: {
    seedRepoFullName: string
    seedSha: string
    slug: string
    message: string
    date: Date
  }): Promise<CandidateRepo>
  /** The tree SHA of a commit. */
  treeOf(repoFullName: string, sha: string): Promise<string>
  /** Where `main` points, or null when the branch does not exist. */
  headOf(repoFullName: string): Promise<string | null>
  /** Refuses pushes from now on; reading stays possible for reviewers. */
  archive(repoFullName: string): Promise<void>
  /** What changed between two commits (rename detection on), whole and per file. */
  diff(repoFullName: string, base: string, head: string): Promise<Diff>
  /** Commits reachable from `head` and not from `base`, newest first. */
  commits(repoFullName: string, base: string, head: string): Promise<Commit[]>
}
