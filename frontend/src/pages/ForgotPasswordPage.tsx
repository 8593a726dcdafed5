import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useRequestPasswordReset } from "../api/passwordReset";
import { ProblemAlert, StatusMessage } from "../components/Alert";
import { Field } from "../components/Field";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useT } from "../i18n";

/**
 * Asks for a reset link. The server answers `202` whether or not the account exists (no
 * enumeration), so the page says exactly that much.
 */
export function ForgotPasswordPage() {
  const t = useT();
  const request = useRequestPasswordReset();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  useDocumentTitle(t("forgot.heading"));
  const [login, setLogin] = useState("");

  function submit(event: FormEvent) {
    event.preventDefault();
    if (request.isPending) return;
    request.mutate({ login: login.trim() });
  }

  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        {t("forgot.heading")}
      </h1>
      <p>{t("forgot.explain")}</p>
      <form onSubmit={submit}>
        <Field
          label={t("forgot.login")}
          name="login"
          autoComplete="username"
          autoCapitalize="off"
          spellcheck={false}
          required
          maxLength={254}
          value={login}
          onChange={(e) => setLogin(e.currentTarget.value)}
        />
        <ProblemAlert problem={request.error} />
        <StatusMessage>{request.isSuccess && t("forgot.sent")}</StatusMessage>
        <button type="submit" className="primary" disabled={request.isPending}>
          {t("forgot.submit")}
        </button>
      </form>
      <p>
        <Link to="/sign-in">{t("forgot.back")}</Link>
      </p>
    </section>
  );
}
