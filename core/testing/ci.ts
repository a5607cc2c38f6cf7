/** Whether this run is CI's (`CI=1`/`CI=true`), where a test may never be skipped. */
export const underCI = (env: NodeJS.ProcessEnv = process.env) => /^(1|true)$/i.test(env.CI ?? '')
