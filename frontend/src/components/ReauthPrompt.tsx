import { useState, type FormEvent } from "react";
import type { IntlShape } from "react-intl";
import { usePasskeyProofOptions } from "../api/passkeys";
import { settle } from "../api/problems";
import type { Account, Problem, Proof } from "../api/types";
import { signWithPasskey, webAuthnAvailable, type CeremonyFailure } from "../api/webauthn";
import { useT, type MessageId } from "../i18n";
import { problemMessage } from "../i18n/problems";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useAccount } from "../hooks/useSession";
import { ProblemAlert, StatusMessage } from "./Alert";
import { CeremonyNote } from "./CeremonyNote";
import { Field } from "./Field";
import { SecondFactorField, typedFactor } from "./SecondFactorField";

/** The proofs typed into the field; a passkey answers in the browser's dialog instead. */
export type ProofKind = Exclude<keyof Proof, "webauthn">;

const LABELS: Record<ProofKind, MessageId> = {
  code: "field.code",
  recovery_code: "field.recovery_code",
  password: "field.password",
};

/**
 * The typed proofs the server accepts: with two-factor on only a second factor (a password alone
 * is not enough), with two-factor off the password. A six-digit code only where the account has
 * an OTP application: an account with passkeys alone types a recovery code (or uses a passkey).
 */
export function proofKinds(twoFactor: Account["two_factor"]): ProofKind[] {
  if (!twoFactor.enabled) return ["password"];
  return twoFactor.methods.includes("totp") ? ["code", "recovery_code"] : ["recovery_code"];
}

/** A passkey proves it only with two-factor on (the server takes the password otherwise). */
export function canProveWithPasskey(twoFactor: Account["two_factor"]): boolean {
  return twoFactor.enabled && twoFactor.methods.includes("webauthn");
}

function explanation(twoFactor: Account["two_factor"], passkey: boolean): MessageId {
  if (!twoFactor.enabled) return "reauth.explain_password";
  const code = twoFactor.methods.includes("totp");
  if (passkey) return code ? "reauth.explain_passkey_codes" : "reauth.explain_passkey";
  return code ? "reauth.explain_codes" : "reauth.explain_recovery_code";
}

/** A refused passkey answer is `invalid_code` for the server; its words name the passkey. */
export function describePasskeyProblem(intl: IntlShape, problem: Problem): string {
  if (problem.code === "invalid_code") return intl.formatMessage({ id: "reauth.passkey_refused" });
  if (problem.code === "no_passkeys") return intl.formatMessage({ id: "reauth.no_passkeys" });
  return problemMessage(intl, problem);
}

type ReauthPromptProps = {
  /** Retries the action with the proof; resolves to a problem when it failed again. */
  onSubmit: (proof: Proof) => Promise<Problem | null>;
  onCancel: () => void;
};

/** Asks someone whose sign-in is older than ten minutes to prove it's them, then retries. */
export function ReauthPrompt({ onSubmit, onCancel }: ReauthPromptProps) {
  const t = useT();
  const passkeyOptions = usePasskeyProofOptions();
  const { two_factor } = useAccount();
  const kinds = proofKinds(two_factor);
  const hasPasskey = canProveWithPasskey(two_factor);
  const canPasskey = hasPasskey && webAuthnAvailable();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const [kind, setKind] = useState<ProofKind>(kinds[0] ?? "password");
  const [value, setValue] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  // Whether the problem shown answered a passkey (its words differ from a typed code's).
  const [byPasskey, setByPasskey] = useState(false);
  const [failure, setFailure] = useState<CeremonyFailure | null>(null);
  const [inBrowser, setInBrowser] = useState(false);
  const [busy, setBusy] = useState(false);

  function show(failed: Problem | null, passkey: boolean) {
    setProblem(failed);
    setByPasskey(passkey);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    event.stopPropagation();
    if (busy) return;
    setBusy(true);
    setFailure(null);
    const failed = await onSubmit(kind === "password" ? { password: value.trim() } : typedFactor(kind, value));
    setBusy(false);
    show(failed, false);
  }

  /** The server's options for this session, the browser's dialog, then the action with its answer. */
  async function confirmWithPasskey() {
    if (busy) return;
    setBusy(true);
    setFailure(null);
    show(null, true);
    const options = await settle(passkeyOptions.mutateAsync());
    if (!options.ok) {
      setBusy(false);
      show(options.problem, true);
      return;
    }
    setInBrowser(true);
    const ceremony = await signWithPasskey(options.data.options);
    setInBrowser(false);
    if (!ceremony.ok) {
      setBusy(false);
      setFailure(ceremony.failure);
      return;
    }
    const failed = await onSubmit({ webauthn: ceremony.credential });
    setBusy(false);
    show(failed, true);
  }

  return (
    <form className="panel reauth" onSubmit={(e) => void submit(e)} aria-labelledby="reauth-heading">
      <h3 id="reauth-heading" tabIndex={-1} ref={headingRef}>
        {t("reauth.heading")}
      </h3>
      <p>{t(explanation(two_factor, hasPasskey))}</p>
      {hasPasskey && (
        <div className="passkey-option">
          {canPasskey ? (
            <button type="button" className="primary" onClick={() => void confirmWithPasskey()} disabled={busy}>
              {t("reauth.use_passkey")}
            </button>
          ) : (
            <p className="alert alert-warning">{t("reauth.passkey_unsupported")}</p>
          )}
          <StatusMessage>{inBrowser && t("reauth.follow_browser")}</StatusMessage>
          <CeremonyNote failure={failure} />
          <p className="muted">{t("reauth.or_another_way")}</p>
        </div>
      )}
      {kinds.length > 1 && (
        <fieldset>
          <legend>{t("reauth.confirm_with")}</legend>
          {kinds.map((k) => (
            <div className="radio" key={k}>
              <input
                type="radio"
                id={`reauth-${k}`}
                name="reauth-kind"
                checked={kind === k}
                onChange={() => {
                  setKind(k);
                  setValue("");
                  show(null, false);
                }}
              />
              <label htmlFor={`reauth-${k}`}>{t(LABELS[k])}</label>
            </div>
          ))}
        </fieldset>
      )}
      {kind === "password" ? (
        <Field
          label={t("field.password")}
          type="password"
          autoComplete="current-password"
          required
          value={value}
          onChange={(e) => setValue(e.currentTarget.value)}
        />
      ) : (
        <SecondFactorField factor={kind} value={value} onChange={setValue} words="confirm" />
      )}
      <ProblemAlert problem={problem} describe={byPasskey ? describePasskeyProblem : undefined} />
      <div className="actions">
        <button type="submit" className={canPasskey ? undefined : "primary"} disabled={busy}>
          {t("reauth.confirm")}
        </button>
        <button type="button" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}
