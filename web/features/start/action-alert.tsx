import type { ActionState } from './action-state'

export function ActionAlert({ error }: { error: NonNullable<ActionState['error']> }) {
  return (
    <div className="notice notice-danger" role="alert">
      <p>
        <strong>{error.title}.</strong> {error.message}
      </p>
    </div>
  )
}
