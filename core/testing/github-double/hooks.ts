import { writeFile } from 'node:fs/promises'
import path from 'node:path'

/** Present in a repository's directory while it is archived; the pre-receive hook reads it. */
export const ARCHIVED_MARKER = 'double-archived'

/**
 * Refuses what GitHub refuses at push time: anything into an archived repository (a push
 * that began before archiving ends here), and a change under `.github/workflows/` by a
 * GitHub App token without `workflows: write` (the double gives it in DOUBLE_WORKFLOWS).
 * GitHub's refusal texts, word for word.
 */
const PRE_RECEIVE = `#!/bin/sh
if [ -e ${ARCHIVED_MARKER} ]; then
  echo "This repository was archived so it is read-only." >&2
  exit 1
fi
[ "$DOUBLE_WORKFLOWS" = write ] && exit 0
zero=0000000000000000000000000000000000000000
while read -r old new ref; do
  [ "$new" = "$zero" ] && continue
  if [ "$old" = "$zero" ]; then
    # A new ref: the commits it brings that the repository did not have.
    changed=$(git rev-list "$new" --not --all | git diff-tree --stdin -m --no-commit-id --name-only -r --root)
  else
    changed=$(git diff --name-only "$old" "$new")
  fi
  workflow=$(printf '%s\\n' "$changed" | grep -m1 '^\\.github/workflows/')
  if [ -n "$workflow" ]; then
    echo "refusing to allow a GitHub App to create or update workflow \\\`$workflow\\\` without \\\`workflows\\\` permission" >&2
    exit 1
  fi
done
exit 0
`

/** Hands the double the refs a push updated (old, new, name per line), for its push webhook. */
const POST_RECEIVE = `#!/bin/sh
if [ -n "$DOUBLE_PUSH_LOG" ]; then cat > "$DOUBLE_PUSH_LOG"; fi
exit 0
`

export async function installHooks(repoDir: string) {
  await writeFile(path.join(repoDir, 'hooks', 'pre-receive'), PRE_RECEIVE, { mode: 0o755 })
  await writeFile(path.join(repoDir, 'hooks', 'post-receive'), POST_RECEIVE, { mode: 0o755 })
}
