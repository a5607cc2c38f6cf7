// The only place the web app reads its environment. Read per call, not at import,
// so a build made once runs against whichever API the server process is pointed at.
export function apiBaseUrl(): string {
  const configured = process.env.TAKEHOME_API_URL
  if (configured) return configured.replace(/\/+$/, '')
  // Mounted inside the API server, the API is this very process.
  return `http://127.0.0.1:${process.env.PORT ?? 3000}`
}
