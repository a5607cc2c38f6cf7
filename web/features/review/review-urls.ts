/**
 * The API answers the review page starts from, all keyed by the invitation's id so that
 * none waits for another. Not a client module: the page's server component names them to
 * the browser as preloads, and the queries in review-api.ts fetch these same URLs.
 */
export function reviewUrls(invitationId: string) {
  const invitation = `/api/invitations/${encodeURIComponent(invitationId)}`
  return { invitation, diff: `${invitation}/diff`, commits: `${invitation}/commits` }
}
