import Link from 'next/link'

export default function NotFound() {
  return (
    <article className="card" aria-labelledby="not-found-title">
      <h1 id="not-found-title">Page not found</h1>
      <p>
        There is nothing at this address. Go to the <Link href="/">home page</Link>.
      </p>
    </article>
  )
}
