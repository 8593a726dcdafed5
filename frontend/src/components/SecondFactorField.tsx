import { useId, type Ref } from "react";
import { useT, type MessageId } from "../i18n";
import { useSiteName } from "../hooks/usePublicSettings";
import { Field } from "./Field";

/** A second factor typed by hand: the OTP application's six-digit code, or a recovery code. */
export type TypedFactor = "code" | "recovery_code";

/** The hints in the words of the place: signing in (and the reset link), or confirming it's you. */
const HINTS: Record<"sign-in" | "confirm", Record<TypedFactor, MessageId>> = {
  "sign-in": { code: "signin.code_hint", recovery_code: "signin.recovery_hint" },
  confirm: { code: "reauth.code_hint", recovery_code: "reauth.recovery_code_hint" },
};

type SecondFactorFieldProps = {
  factor: TypedFactor;
  value: string;
  onChange: (value: string) => void;
  /** Offers "Use a recovery code instead" beside a code; a switch empties the field. */
  onFactorChange?: (factor: TypedFactor) => void;
  words?: keyof typeof HINTS;
  ref?: Ref<HTMLInputElement>;
};

/**
 * The one entry of a code or a recovery code (sign-in, the reset link, the re-authentication
 * prompt): its label, hint, autocomplete and checks are written here only.
 */
export function SecondFactorField({ factor, value, onChange, onFactorChange, words = "sign-in", ref }: SecondFactorFieldProps) {
  const t = useT();
  const site = useSiteName();
  const switchId = useId();
  const hintId = HINTS[words][factor];
  const field = {
    ref,
    name: factor,
    // The code hint names the entry to look for in the OTP application: the site name, its issuer.
    hint: hintId === "signin.code_hint" && !site ? t("signin.code_hint_unnamed") : t(hintId, { site }),
    required: true,
    spellcheck: false,
    value,
    onChange: (e: { currentTarget: { value: string } }) => onChange(e.currentTarget.value),
  };
  return (
    <>
      {factor === "code" ? (
        <Field
          key="code"
          label={t("field.code")}
          autoComplete="one-time-code"
          inputMode="numeric"
          pattern="\s*[0-9]{3}\s*[0-9]{3}\s*"
          maxLength={8}
          {...field}
        />
      ) : (
        <Field key="recovery" label={t("field.recovery_code")} autoComplete="off" autoCapitalize="off" {...field} />
      )}
      {onFactorChange && (
        <div className="checkbox">
          <input
            id={switchId}
            type="checkbox"
            checked={factor === "recovery_code"}
            onChange={(e) => {
              onChange("");
              onFactorChange(e.currentTarget.checked ? "recovery_code" : "code");
            }}
          />
          <label htmlFor={switchId}>{t("signin.use_recovery")}</label>
        </div>
      )}
    </>
  );
}

/** What the API takes: a code's digits only (often typed "123 456"), a recovery code trimmed. */
export function typedFactor(factor: TypedFactor, value: string): { code: string } | { recovery_code: string } {
  return factor === "code" ? { code: value.replace(/\s/g, "") } : { recovery_code: value.trim() };
}
