import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { run } from "../api/problems";
import type { Problem } from "../api/types";
import { ProblemAlert, StatusMessage } from "../components/Alert";
import { Field } from "../components/Field";
import { useApi } from "../hooks/useApi";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useT } from "../i18n";

/**
 * Asks for a reset link. The server answers `202` whether or not the account exists (no
 * enumeration), so the page says exactly that much.
 */
export function ForgotPasswordPage() {
  const t = useT();
  const { client } = useApi();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const [login, setLogin] = useState("");
  const [sent, setSent] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setProblem(null);
    setSent(false);
    const result = await run(client.POST("/api/v1/auth/password-reset", { body: { login: login.trim() } }));
    setBusy(false);
    if (result.ok) setSent(true);
    else setProblem(result.problem);
  }

  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        {t("forgot.heading")}
      </h1>
      <p>{t("forgot.explain")}</p>
      <form onSubmit={(e) => void submit(e)}>
        <Field
          label={t("forgot.login")}
          name="login"
          autoComplete="username"
          autoCapitalize="off"
          spellCheck={false}
          required
          maxLength={254}
          value={login}
          onChange={(e) => setLogin(e.target.value)}
        />
        <ProblemAlert problem={problem} />
        <StatusMessage>{sent && t("forgot.sent")}</StatusMessage>
        <button type="submit" className="primary" disabled={busy}>
          {t("forgot.submit")}
        </button>
      </form>
      <p>
        <Link to="/sign-in">{t("forgot.back")}</Link>
      </p>
    </section>
  );
}
