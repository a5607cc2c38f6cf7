export * from './clock.ts'
export * from './database.ts'
export * from './git.ts'
export * from './services.ts'
