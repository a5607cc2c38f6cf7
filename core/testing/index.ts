// What tests outside core use: real parts on throwaway state, and doubles of the services
// we cannot reach (Resend).
export { underCI } from './ci.ts'
export { createTestClock } from './clock.ts'
export { createScratchPostgres } from './database.ts'
export { candidateMachine, createSourceRepo, git } from './git.ts'
export { createTestServices, type TestServices, type TestServicesOptions } from './services.ts'
export { startResendDouble } from './resend-double.ts'
export { startGitHubDouble, type DoubleRepo, type Fault, type GitHubDouble, type GitHubDoubleOptions } from './github-double/index.ts'
export { type DoubleUser, es256, hs256, newSigningKey, rs256, signJwt, startSupabaseDouble, type SupabaseDouble, type SupabaseDoubleOptions } from './supabase-double/index.ts'
