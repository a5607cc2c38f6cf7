import { redirect } from 'next/navigation'
import { currentAccount } from '../features/account/account-api'

/** The landing for visitors; someone already signed in goes straight to their dashboard. */
export default async function Home() {
  if (await currentAccount()) redirect('/dashboard')
  return (
    <article className="card" aria-labelledby="home-title">
      <h1 id="home-title">Takehome</h1>
      <p className="lead">
        Git-native take-home assessments: each candidate gets a repository, works in it with their own tools, and submits
        by pushing.
      </p>
      <div className="notice notice-info">
        <p>
          <strong>Hiring teams</strong> use the console to create assessments, invite candidates and review their work.
          Scripts use the HTTP API, documented at <a href="/docs">/docs</a>.
        </p>
      </div>
      <p className="flex flex-wrap gap-3">
        <a className="button no-underline" href="/login">
          Log in
        </a>
        <a className="button button-secondary no-underline" href="/signup">
          Sign up
        </a>
      </p>
      <p className="muted">
        Signing up creates a new organisation with you as its owner. On a new server the first sign-up is ready at once;
        after that, depending on how the server is set up, a sign-up is confirmed by email or teams grow by invitation.
      </p>
      {/* Plain anchors, not next/link: these paths are served by the API, not by this app. */}
      <ul className="links">
        <li>
          <a href="/docs">API documentation</a>
        </li>
        <li>
          <a href="/healthz">Health check</a>
        </li>
      </ul>
    </article>
  )
}
