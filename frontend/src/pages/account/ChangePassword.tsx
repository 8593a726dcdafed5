import { useState, type FormEvent } from "react";
import { useChangePassword } from "../../api/account";
import { ProblemAlert, StatusMessage } from "../../components/Alert";
import { Field } from "../../components/Field";
import { PasswordStrength } from "../../components/PasswordStrength";
import { personalWords } from "../../password/strength";
import type { Account } from "../../api/types";
import { useT } from "../../i18n";

export function ChangePassword({ account }: { account: Account }) {
  const t = useT();
  const change = useChangePassword();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [message, setMessage] = useState("");

  function submit(event: FormEvent) {
    event.preventDefault();
    if (change.isPending) return;
    setMessage("");
    change.mutate(
      { current_password: current, new_password: next },
      {
        onSuccess: () => {
          setCurrent("");
          setNext("");
          setMessage(t("password.changed"));
        },
      },
    );
  }

  return (
    <section className="panel" aria-labelledby="password-heading">
      <h2 id="password-heading">{t("password.heading")}</h2>
      <form onSubmit={submit}>
        <Field
          label={t("password.current")}
          type="password"
          autoComplete="current-password"
          required
          value={current}
          onChange={(e) => setCurrent(e.currentTarget.value)}
        />
        <Field
          label={t("password.new")}
          hint={t("field.new_password_hint")}
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          value={next}
          onChange={(e) => setNext(e.currentTarget.value)}
          error={change.error?.field === "new_password" ? t("signup.check_field") : undefined}
        />
        <PasswordStrength password={next} userInputs={personalWords(account.username, account.email)} />
        <ProblemAlert problem={change.error} />
        <StatusMessage>{message}</StatusMessage>
        <button type="submit" className="primary" disabled={change.isPending}>
          {t("password.submit")}
        </button>
      </form>
    </section>
  );
}
