import type { Readable } from 'node:stream'
import type { SeedSource } from '../seed-source.ts'

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
  /** Its page on the host, for reviewers; null on the local host, which has no pages. */
  htmlUrl: string | null
  /** The host's own id of the repository (GitHub's), null on the local host. */
  hostRepoId: number | null
}

/** A credential git can use against the host for exactly one repository. */
export interface RepoCredential {
  username: string
  password: string
  expiresAt: Date
}

/**
 * A host that serves repositories over smart HTTP itself (GitHub): the gateway proxies
 * candidates' git requests to it, and the broker answers git's credential requests for it.
 */
export interface RemoteRepositories {
  /** The host git talks to for these repositories (`github.com`, `ghe.example.com:8443`), to tell its credential requests from ours. */
  readonly gitHost: string
  /** Smart-HTTP URL of a repository (`GITHUB_URL/ORG/REPO.git`). */
  cloneUrl(repoFullName: string): string
  /** Pages for reviewers: the repository, and the comparison of two commits. */
  htmlUrl(repoFullName: string): string
  compareUrl(repoFullName: string, base: string, head: string): string
  /**
   * A credential scoped to this one repository, with `contents: write` and `metadata: read`
   * (and `workflows: write` when asked), cached while it has at least 10 minutes left.
   */
  repoCredential(repoFullName: string, options: { workflows: boolean }): Promise<RepoCredential>
}

/** Whether the host can do its work now; `reason` says what an operator must fix. */
export type HostReadiness = { ok: true } | { ok: false; reason: string }

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
  status: 'added' | 'deleted' | 'modified' | 'renamed'
  /** File modes (`100644`, `100755`, `120000` for a symlink, `160000` for a submodule); null on the side where the file does not exist. */
  oldMode: string | null
  newMode: string | null
  /** Null for binary files, whose lines git does not count, and for files too large to count (`patchOmitted` is set). */
  additions: number | null
  deletions: number | null
  binary: boolean
  /** This file's part of the unified diff; null when it was left out (`patchOmitted` says why). */
  patch: string | null
  /**
   * file_too_large and diff_too_large: over a limit; path_too_long: a path git cannot be
   * handed as an argument; patch_unavailable: git printed no patch we could tell was this
   * file's (a name that is not UTF-8). Counts may be null for the same reasons.
   */
  patchOmitted: 'file_too_large' | 'diff_too_large' | 'path_too_long' | 'patch_unavailable' | null
}

export interface Diff {
  files: FileChange[]
}

/** How much of a diff is turned into patches. What is left out is still listed, with its counts. */
export interface DiffLimits {
  /** Changed lines (added + deleted) of one file's patch. */
  fileLines: number
  /** Bytes of one file's patch. */
  fileBytes: number
  /** Changed lines of all patches together. */
  totalLines: number
  /** Bytes of all patches together. */
  totalBytes: number
  /** Files with a patch. */
  files: number
  /** Bytes of blobs (both sides) git may read to build the patches: what bounds git's own work. */
  scanBytes: number
}

export interface GitHost {
  readonly kind: 'local' | 'github'
  /** Set when the host serves repositories itself (GitHub); the local host is served by our own gateway. */
  readonly remote?: RemoteRepositories
  /** GitHub: the app is installed on the org with the permissions it needs. Cached briefly. */
  readiness(): Promise<HostReadiness>
  /** Copies the source's default branch into a new seed repository's `main`. */
  mirrorSeed(input: { seedId: string; source: SeedSource }): Promise<SeedMirror>
  /** Fetches the source again and moves the seed's `main` to its default branch. */
  syncSeed(input: { repoFullName: string; source: SeedSource }): Promise<SeedMirror>
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
  /**
   * Refuses pushes from now on; reading stays possible for reviewers. On GitHub it first
   * revokes every credential `remote.repoCredential` issued for the repository. Idempotent.
   */
  archive(repoFullName: string): Promise<void>
  /**
   * Deletes a candidate repository and every copy the host keeps of it (erasure of the
   * candidate's work: retention or a request). On GitHub it revokes the repository's
   * credentials first. Idempotent: a repository already gone is not an error.
   */
  removeCandidateRepo(repoFullName: string): Promise<void>
  /** What changed between two commits (rename detection on), per file, with patches within `limits`. */
  diff(repoFullName: string, base: string, head: string, limits: DiffLimits): Promise<Diff>
  /** The unified diff as a stream; past `maxBytes` it ends with a line saying it was cut. */
  rawDiff(repoFullName: string, base: string, head: string, maxBytes: number): Promise<Readable>
  /** Commits reachable from `head` and not from `base`, newest first. */
  commits(repoFullName: string, base: string, head: string): Promise<Commit[]>
  /** The tree of commit `sha` as a zip, streamed; past `maxBytes` the stream fails rather than end as a broken file. */
  zipArchive(repoFullName: string, sha: string, maxBytes: number): Promise<Readable>
}
