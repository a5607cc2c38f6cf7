/** Why the API left a file's patch out, in the reviewer's words. */
export const TRUNCATION_REASONS = {
  file_too_large: 'This file’s change is too large to show here.',
  diff_too_large: 'The diff reached its size limit before this file.',
  path_too_long: 'The file’s path is too long to show its change.',
  patch_unavailable: 'Git gave no readable patch for this file (its name may not be UTF-8).',
} as const
