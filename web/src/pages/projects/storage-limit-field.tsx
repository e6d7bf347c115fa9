import { Field } from '../../components/ui';
import { SIZE_UNITS, type SizeUnit } from './project-name';

/** A storage limit as a number and a unit; -1 (or empty) for unlimited. */
export function StorageLimitField(props: {
  value: string;
  unit: SizeUnit;
  invalid: boolean;
  hint?: string;
  onChange: (value: string, unit: SizeUnit) => void;
}) {
  return (
    <Field
      label="Storage Limit"
      error={props.invalid ? 'A whole number, or -1 for unlimited' : null}
      hint={props.hint ?? '-1 for unlimited'}
    >
      {(id) => (
        <div className="row">
          <input
            id={id}
            name="storage_limit"
            inputMode="numeric"
            value={props.value}
            onChange={(e) => props.onChange(e.target.value, props.unit)}
          />
          <select
            className="inline"
            aria-label="Storage limit unit"
            value={props.unit}
            onChange={(e) => props.onChange(props.value, e.target.value as SizeUnit)}
          >
            {SIZE_UNITS.map((u) => (
              <option key={u}>{u}</option>
            ))}
          </select>
        </div>
      )}
    </Field>
  );
}
