/** What a Start or Submit form shows after its action ran: nothing, or why it did not work. */
export interface ActionState {
  error: { code: string; title: string; message: string } | null
}

export const IDLE: ActionState = { error: null }
