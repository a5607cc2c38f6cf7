export default function Home() {
  return (
    <article className="card" aria-labelledby="home-title">
      <h1 id="home-title">Takehome</h1>
      <p className="lead">
        Git-native take-home assessments: each candidate gets a repository, works in it with their own tools, and submits
        by pushing.
      </p>
      <div className="notice notice-info">
        <p>
          <strong>The admin screens are coming.</strong> Today, admins create assessments and invite candidates through
          the HTTP API, documented at <a href="/docs">/docs</a>.
        </p>
      </div>
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
