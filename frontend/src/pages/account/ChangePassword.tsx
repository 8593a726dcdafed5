import { useState, type FormEvent } from "react";
import { run } from "../../api/problems";
import type { Problem } from "../../api/types";
import { ProblemAlert, StatusMessage } from "../../components/Alert";
import { Field } from "../../components/Field";
import { useT } from "../../i18n";
import { useApi } from "../../hooks/useApi";

export function ChangePassword() {
  const t = useT();
  const { client } = useApi();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setProblem(null);
    setMessage("");
    setBusy(true);
    const result = await run(
      client.POST("/api/v1/account/password", { body: { current_password: current, new_password: next } }),
    );
    setBusy(false);
    if (!result.ok) return setProblem(result.problem);
    setCurrent("");
    setNext("");
    setMessage(t("password.changed"));
  }

  return (
    <section className="panel" aria-labelledby="password-heading">
      <h2 id="password-heading">{t("password.heading")}</h2>
      <form onSubmit={(e) => void submit(e)}>
        <Field
          label={t("password.current")}
          type="password"
          autoComplete="current-password"
          required
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
        />
        <Field
          label={t("password.new")}
          hint={t("field.new_password_hint")}
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
        <ProblemAlert problem={problem} />
        <StatusMessage>{message}</StatusMessage>
        <button type="submit" className="primary" disabled={busy}>
          {t("password.submit")}
        </button>
      </form>
    </section>
  );
}
