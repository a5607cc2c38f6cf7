import { Label } from '../../components/ui/label'
import { fieldClasses, Input } from '../../components/ui/input'
import { cn } from '../../lib/cn'
import { type DurationInput, type Unit, UNITS } from './duration'

/** An amount and its unit, labelled as one field, with the API's message about it below. */
export function DurationField({
  id,
  label,
  hint,
  value,
  onChange,
  error,
}: {
  id: string
  label: string
  hint: string
  value: DurationInput
  onChange: (value: DurationInput) => void
  error?: string
}) {
  const described = [`${id}-hint`, error ? `${id}-error` : undefined].filter(Boolean).join(' ')
  return (
    <fieldset className="m-0 min-w-0 space-y-1.5 border-0 p-0">
      <legend className="text-sm font-semibold">{label}</legend>
      <p id={`${id}-hint`} className="text-xs text-muted">
        {hint}
      </p>
      <div className="flex gap-2">
        <Label htmlFor={id} className="sr-only">
          {label}: amount
        </Label>
        <Input
          id={id}
          type="number"
          inputMode="numeric"
          min={1}
          step={1}
          required
          className="w-24"
          value={value.amount}
          aria-describedby={described}
          aria-invalid={error ? true : undefined}
          onChange={(e) => onChange({ ...value, amount: e.target.value })}
        />
        <Label htmlFor={`${id}-unit`} className="sr-only">
          {label}: unit
        </Label>
        <select
          id={`${id}-unit`}
          className={cn(fieldClasses, 'h-9 w-auto')}
          value={value.unit}
          onChange={(e) => onChange({ ...value, unit: e.target.value as Unit })}
        >
          {UNITS.map((u) => (
            <option key={u.value} value={u.value}>
              {u.label}
            </option>
          ))}
        </select>
      </div>
      {error && (
        <p id={`${id}-error`} className="text-sm text-danger">
          {error}
        </p>
      )}
    </fieldset>
  )
}
