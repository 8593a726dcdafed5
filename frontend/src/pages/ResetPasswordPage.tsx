import { useRef, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { run } from "../api/problems";
import type { Problem } from "../api/types";
import { ErrorAlert, ProblemAlert } from "../components/Alert";
import { Field } from "../components/Field";
import { useApi } from "../hooks/useApi";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useSession } from "../hooks/useSession";
import { useT } from "../i18n";

type SecondFactor = { code: string } | { recovery_code: string };

/**
 * Where the mailed reset link lands: a new password (typed twice); with two-factor on, the server
 * answers `403 second_factor_required` and the page asks for a code before sending it again.
 */
export function ResetPasswordPage() {
  const t = useT();
  const { client, session } = useApi();
  const { state } = useSession();
  const [search] = useSearchParams();
  const token = search.get("token") ?? "";
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const codeHeadingRef = useRef<HTMLHeadingElement>(null);
  const doneHeadingRef = useRef<HTMLHeadingElement>(null);
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const [needsCode, setNeedsCode] = useState(false);
  const [useRecovery, setUseRecovery] = useState(false);
  const [code, setCode] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setProblem(null);
    if (password !== repeat) return setMismatch(true);
    setMismatch(false);
    let proof: SecondFactor | Record<string, never> = {};
    if (needsCode) proof = useRecovery ? { recovery_code: code.trim() } : { code: code.replace(/\s/g, "") };
    setBusy(true);
    const result = await run(
      client.POST("/api/v1/auth/password-reset/confirm", { body: { token, new_password: password, ...proof } }),
    );
    setBusy(false);
    if (result.ok) {
      setDone(true);
      // Every session of the account ended, this tab's too if it was signed in.
      if (state.status === "signed-in") session.expire();
      requestAnimationFrame(() => doneHeadingRef.current?.focus());
      return;
    }
    if (result.problem.code === "second_factor_required" && !needsCode) {
      setNeedsCode(true);
      requestAnimationFrame(() => codeHeadingRef.current?.focus());
      return;
    }
    setCode("");
    setProblem(result.problem);
  }

  if (done) {
    return (
      <section className="narrow">
        <h1 tabIndex={-1} ref={doneHeadingRef}>
          {t("reset.done_heading")}
        </h1>
        <p className="alert alert-success" role="status">
          {t("reset.done")}
        </p>
        <p>
          <Link to="/sign-in">{t("reset.sign_in")}</Link>
        </p>
      </section>
    );
  }

  const invalidLink = !token || problem?.code === "invalid_token";

  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        {t("reset.heading")}
      </h1>
      {invalidLink ? (
        <>
          <ErrorAlert>{t(token ? "reset.invalid_link" : "reset.no_token")}</ErrorAlert>
          <p>
            <Link to="/forgot-password">{t("reset.new_link")}</Link>
          </p>
        </>
      ) : (
        <form onSubmit={(e) => void submit(e)}>
          <Field
            label={t("reset.new")}
            hint={t("field.new_password_hint")}
            name="new-password"
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            maxLength={1024}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <Field
            label={t("reset.repeat")}
            name="repeat-password"
            type="password"
            autoComplete="new-password"
            required
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
            aria-invalid={mismatch || undefined}
          />
          {needsCode && (
            <div className="subsection">
              <h2 tabIndex={-1} ref={codeHeadingRef}>
                {t("signin.otp_heading")}
              </h2>
              <p>{t("reset.second_factor")}</p>
              {useRecovery ? (
                <Field
                  key="recovery"
                  label={t("field.recovery_code")}
                  hint={t("signin.recovery_hint")}
                  name="recovery_code"
                  autoComplete="off"
                  autoCapitalize="off"
                  spellCheck={false}
                  required
                  value={code}
                  onChange={(e) => setCode(e.target.value)}
                />
              ) : (
                <Field
                  key="code"
                  label={t("field.code")}
                  hint={t("signin.code_hint")}
                  name="code"
                  autoComplete="one-time-code"
                  inputMode="numeric"
                  pattern="\s*[0-9]{3}\s*[0-9]{3}\s*"
                  maxLength={8}
                  required
                  value={code}
                  onChange={(e) => setCode(e.target.value)}
                />
              )}
              <div className="checkbox">
                <input
                  id="reset-use-recovery"
                  type="checkbox"
                  checked={useRecovery}
                  onChange={(e) => {
                    setUseRecovery(e.target.checked);
                    setCode("");
                  }}
                />
                <label htmlFor="reset-use-recovery">{t("signin.use_recovery")}</label>
              </div>
            </div>
          )}
          <ErrorAlert>{mismatch && t("reset.mismatch")}</ErrorAlert>
          <ProblemAlert problem={problem} />
          <button type="submit" className="primary" disabled={busy}>
            {t("reset.submit")}
          </button>
        </form>
      )}
    </section>
  );
}
