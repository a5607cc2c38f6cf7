import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as React from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import type { GitCommands } from './get-start'

// The test runner compiles TSX with the classic transform (web's tsconfig is Next's, not
// the runner's), which expects React in scope.
Object.assign(globalThis, { React })
const { GitInstructions } = await import('./git-instructions')

const LOCAL: GitCommands = {
  clone_url: 'http://localhost:3000/r/exercise-0123456789.git',
  credential_url: 'http://localhost:3000/git/credential?token=tha_x',
  clone_command: 'git clone … http://localhost:3000/r/exercise-0123456789.git',
  clone_command_powershell: 'git clone … (PowerShell) http://localhost:3000/r/exercise-0123456789.git',
  github_clone_url: null,
  github_clone_command: null,
  github_clone_command_powershell: null,
  workflow_changes_allowed: true,
}
const GITHUB: GitCommands = {
  ...LOCAL,
  github_clone_url: 'https://github.com/acme/exercise-0123456789.git',
  github_clone_command: 'git clone … https://github.com/acme/exercise-0123456789.git',
  github_clone_command_powershell: 'git clone … (PowerShell) https://github.com/acme/exercise-0123456789.git',
  workflow_changes_allowed: false,
}
const render = (git: GitCommands) => renderToStaticMarkup(React.createElement(GitInstructions, { git, completeDeadline: '2026-11-25T10:00:00Z' }))

test('GitHub mode: the raw GitHub commands sit in a collapsed fallback, and refused workflow changes are said', () => {
  const html = render(GITHUB)
  assert.match(html, /<details class="fallback"><summary>If cloning through our server fails<\/summary>/)
  const fallback = html.slice(html.indexOf('<details'), html.indexOf('</details>'))
  assert.ok(fallback.includes(GITHUB.github_clone_command!), 'the bash command')
  assert.ok(fallback.includes(GITHUB.github_clone_command_powershell!), 'the PowerShell command')
  assert.match(html, /Pushes that change files under <code>\.github\/workflows<\/code> are refused/)
})

test('local host: no fallback, and nothing about workflows', () => {
  const html = render(LOCAL)
  assert.ok(!html.includes('<details'), 'no fallback')
  assert.ok(!html.includes('.github/workflows'))
  assert.ok(html.includes(LOCAL.clone_command))
})

test('GitHub mode with workflow changes allowed says nothing about them', () => {
  assert.ok(!render({ ...GITHUB, workflow_changes_allowed: true }).includes('.github/workflows'))
})
