export const DATABASE_PASS_DIRS: string[]
export function postgresPassFiles(root: string, usersLog: string): string[]
export function countTestFiles(root: string): number
