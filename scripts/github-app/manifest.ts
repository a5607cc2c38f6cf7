// What the setup asks GitHub for: the app manifest (GitHub's "Registering a GitHub App from
// a manifest") and the page whose form hands it to GitHub.

/** Least privilege: each permission is here for the reason shown on the setup page. */
export const PERMISSIONS = {
  administration: { level: 'write', why: 'create the private seed and candidate repositories, mark seeds as templates, archive repositories on submit and expiry' },
  contents: { level: 'write', why: 'copy a seed into its repository, push the candidate’s pinned root commit, read commits and diffs for review; candidates get it for their one repository' },
  metadata: { level: 'read', why: 'look repositories up (GitHub grants it to every app)' },
  workflows: { level: 'write', why: 'only for assessments that allow changes to .github/workflows; without it GitHub refuses such pushes' },
} as const

/** Installation events are sent to every app without being asked for. */
export const EVENTS = ['push', 'repository'] as const

export interface Manifest {
  name: string
  url: string
  description: string
  hook_attributes: { url: string; active: boolean }
  redirect_url: string
  public: boolean
  default_permissions: Record<keyof typeof PERMISSIONS, string>
  default_events: string[]
}

export const webhookUrl = (publicUrl: string) => `${publicUrl}/api/github/webhooks`

export function appManifest(options: { name: string; org: string; publicUrl: string; redirectUrl: string }): Manifest {
  return {
    name: options.name,
    url: options.publicUrl,
    description: `Takehome assessments: private seed and candidate repositories in ${options.org}.`,
    hook_attributes: { url: webhookUrl(options.publicUrl), active: true },
    redirect_url: options.redirectUrl,
    public: false,
    default_permissions: Object.fromEntries(Object.entries(PERMISSIONS).map(([name, p]) => [name, p.level])) as Manifest['default_permissions'],
    default_events: [...EVENTS],
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem}code{font-size:.9em}button{font:inherit;padding:.5rem 1rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`
}

/** GitHub's documented form: POST `manifest` (JSON) to the organisation's new-app page. */
export function formPage(options: { action: string; org: string; manifest: Manifest }): string {
  const permissions = Object.entries(PERMISSIONS)
    .map(([name, p]) => `<li><code>${name}: ${p.level}</code>: ${escapeHtml(p.why)}</li>`)
    .join('\n')
  return htmlPage(
    `Create the Takehome GitHub App on ${options.org}`,
    `<p>Sign in to GitHub as an owner of <b>${escapeHtml(options.org)}</b> in this browser, then press the button. GitHub shows the app's name (you may change it) and creates it; you come back here, and the setup writes its credentials to <code>.env</code>.</p>
<p>Webhooks go to <code>${escapeHtml(options.manifest.hook_attributes.url)}</code> (events: ${EVENTS.join(', ')}, and installation events). Permissions:</p>
<ul>
${permissions}
</ul>
<form action="${escapeHtml(options.action)}" method="post">
<input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(options.manifest))}">
<button type="submit">Create the app on GitHub</button>
</form>`,
  )
}
