import { type ChangeEvent, type FocusEvent, type ReactNode, useEffect, useRef } from 'react'
import { ActionAlert } from '../start/action-alert'
import type { AccountState } from './action-state'
import './account.css'

interface FieldProps {
  /** Unique on the page: the join page has two forms with a password each. */
  id: string
  name: string
  label: string
  type: 'text' | 'email' | 'password'
  autoComplete: string
  state: AccountState
  required?: boolean
  hint?: string
  minLength?: number
  maxLength?: number
  onChange?: (event: ChangeEvent<HTMLInputElement>) => void
  onBlur?: (event: FocusEvent<HTMLInputElement>) => void
  /** A message of the browser's own, shown like the server's (the password match check). */
  clientError?: string
}

/** A labelled input with its hint and, once refused, the reason next to it. */
export function Field({ id, name, label, type, autoComplete, state, required = true, hint, clientError, ...rest }: FieldProps) {
  const error = clientError ?? state.fields[name]
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ')
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {!required && <span className="field-optional"> (optional)</span>}
      </label>
      {hint && (
        <span id={`${id}-hint`} className="field-hint">
          {hint}
        </span>
      )}
      <input
        id={id}
        name={name}
        type={type}
        autoComplete={autoComplete}
        required={required}
        // Passwords are never sent back; what else was typed is shown again after a refusal.
        defaultValue={type === 'password' ? undefined : state.values[name]}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        {...rest}
      />
      {error && (
        <span id={`${id}-error`} className="field-error">
          {error}
        </span>
      )}
    </div>
  )
}

/**
 * A new password, as every page that sets one asks for it. The API checks the length too:
 * a refusal comes back on `password` whatever the API calls the field.
 */
export function NewPasswordField({
  id,
  label = 'Choose a password',
  state,
  onChange,
}: Pick<FieldProps, 'id' | 'state' | 'onChange'> & { label?: string }) {
  return (
    <Field
      id={id}
      name="password"
      label={label}
      type="password"
      autoComplete="new-password"
      hint="At least 10 characters."
      minLength={10}
      maxLength={200}
      state={state}
      onChange={onChange}
    />
  )
}

/**
 * What replaces a form once its action is over. The form goes with the button that had the
 * focus, so the focus moves here rather than falling to the page's top.
 */
export function Notice({ tone, children }: { tone: 'success' | 'warning'; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => ref.current?.focus(), [])
  return (
    <div ref={ref} tabIndex={-1} className={`notice notice-${tone}`} role={tone === 'success' ? 'status' : 'alert'}>
      {children}
    </div>
  )
}

/** The form's alert, if its action was refused for a reason that is no one field's. */
export function FormAlert({ state }: { state: AccountState }) {
  return state.error ? <ActionAlert error={state.error} /> : null
}

/** A submit button that says what is happening while its action runs, to sighted and screen reader users alike. */
export function SubmitButton({ pending, pendingText, children }: { pending: boolean; pendingText: string; children: ReactNode }) {
  return (
    <>
      <button type="submit" className="button" disabled={pending}>
        {pending && <span className="spinner" aria-hidden="true" />}
        {pending ? pendingText : children}
      </button>
      <span className="visually-hidden" role="status">
        {pending ? pendingText : ''}
      </span>
    </>
  )
}
