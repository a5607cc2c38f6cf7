import js from '@eslint/js'
import importX, { createNodeResolver } from 'eslint-plugin-import-x'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const restrict = (patterns) => ['error', { patterns: patterns.map((group) => ({ group: [group], message: 'see DESIGN.md section 2: imports flow one way' })) }]

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/.next/**', 'web/next-env.d.ts', 'migrations/**', '.scratch/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/ignore': ['node_modules'],
      'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.mjs'] })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  { files: ['core/**'], rules: { 'no-restricted-imports': restrict(['@takehome/api*', '@takehome/broker*', '@takehome/worker*', '@takehome/web*', '**/scripts/**']) } },
  { files: ['api/**', 'broker/**', 'worker/**'], rules: { 'no-restricted-imports': restrict(['@takehome/web*', '**/scripts/**', '@takehome/core/src/*']) } },
  { files: ['web/**'], rules: { 'no-restricted-imports': restrict(['@takehome/*', 'drizzle-orm*', 'postgres']) } },
)
