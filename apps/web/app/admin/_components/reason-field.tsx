"use client";

import { useId, type RefObject } from "react";
import { inputClass } from "./ui";

// The audit reason every admin action asks for (the server checks the same bounds).
export const MIN_REASON = 3;
export const MAX_REASON = 500;
export const REASON_TOO_SHORT = `Say briefly why (at least ${MIN_REASON} characters).`;

/**
 * The reason field of an admin action: label, length bounds, help text, and its error tied to
 * it (`aria-describedby`, `aria-invalid`, a red border). `onLongEnough` runs on each edit that
 * meets the minimum, so a "too short" error clears as the admin types.
 */
export function ReasonField(props: {
  textarea: RefObject<HTMLTextAreaElement | null>;
  value: string;
  onChange: (value: string) => void;
  onLongEnough: () => void;
  /** The local check's or the server's message for this field, or null. */
  error: string | null;
  placeholder: string;
  testId: string;
  errorTestId?: string;
}) {
  const ids = { reason: useId(), help: useId(), error: useId() };
  const { error } = props;
  return (
    <div>
      <label htmlFor={ids.reason} className="block text-sm font-medium text-slate-300">
        Reason
      </label>
      <textarea
        ref={props.textarea}
        id={ids.reason}
        value={props.value}
        onChange={(e) => {
          props.onChange(e.target.value);
          if (e.target.value.trim().length >= MIN_REASON) props.onLongEnough();
        }}
        required
        minLength={MIN_REASON}
        maxLength={MAX_REASON}
        rows={3}
        placeholder={props.placeholder}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${ids.error} ${ids.help}` : ids.help}
        className={`mt-1 block w-full ${inputClass} ${error ? "border-red-700" : ""}`}
        data-testid={props.testId}
      />
      <p id={ids.help} className="mt-1 text-xs text-slate-400">
        Required, {MIN_REASON}–{MAX_REASON} characters. Visible to other admins.
      </p>
      {error && (
        <p
          id={ids.error}
          role="alert"
          className="mt-1 text-sm text-red-300"
          data-testid={props.errorTestId}
        >
          {error}
        </p>
      )}
    </div>
  );
}
