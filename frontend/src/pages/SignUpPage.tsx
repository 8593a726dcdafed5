import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { useRegister } from "../api/auth";
import { ProblemAlert } from "../components/Alert";
import { Field } from "../components/Field";
import { useDocumentTitle } from "../hooks/useDocumentTitle";
import { PasswordStrength } from "../components/PasswordStrength";
import { personalWords } from "../password/strength";
import { useFocusOnMount } from "../hooks/useFocusOnMount";
import { useT } from "../i18n";

export function SignUpPage() {
  const register = useRegister();
  const t = useT();
  const navigate = useNavigate();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  useDocumentTitle(t("signup.heading"));
  const [username, setUsername] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const problem = register.error;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (register.isPending) return;
    register.mutate(
      { username: username.trim(), password, email: email.trim() || null },
      { onSuccess: () => void navigate("/sign-in?registered=1") },
    );
  }

  const fieldError = (name: string) =>
    problem?.field === name || (name === "username" && problem?.code === "username_taken")
      ? t("signup.check_field")
      : undefined;

  return (
    <section className="narrow">
      <h1 tabIndex={-1} ref={headingRef}>
        {t("signup.heading")}
      </h1>
      <form onSubmit={submit}>
        <Field
          label={t("field.username")}
          hint={t("signup.username_hint")}
          name="username"
          autoComplete="username"
          required
          minLength={3}
          maxLength={64}
          value={username}
          onChange={(e) => setUsername(e.currentTarget.value)}
          error={fieldError("username")}
        />
        <Field
          label={t("signup.email")}
          name="email"
          type="email"
          autoComplete="email"
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
          error={fieldError("email")}
        />
        <Field
          label={t("field.password")}
          hint={t("field.new_password_hint")}
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
          error={fieldError("password")}
        />
        <PasswordStrength password={password} userInputs={personalWords(username, email)} />
        <ProblemAlert problem={problem} />
        <button type="submit" className="primary" disabled={register.isPending}>
          {t("signup.submit")}
        </button>
      </form>
      <p>
        {t("signup.have_account")} <Link to="/sign-in">{t("signin.submit")}</Link>
      </p>
    </section>
  );
}
