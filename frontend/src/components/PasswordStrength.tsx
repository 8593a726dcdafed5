import { useEffect, useState } from "react";
import { useIntl } from "react-intl";
import { useT } from "../i18n";
import { feedbackMessages } from "../i18n/passwordFeedback";
import { ACCEPTED_SCORE, loadEstimator, type Estimator } from "../password/strength";
import type { MessageId } from "../i18n";

const SCORE_LABELS: readonly MessageId[] = [
  "strength.0",
  "strength.1",
  "strength.2",
  "strength.3",
  "strength.4",
];

type PasswordStrengthProps = {
  password: string;
  /** The username and e-mail address: a password leaning on them is weak. */
  userInputs: string[];
};

/**
 * A strength meter under a new password, while it is typed: zxcvbn-ts's score and advice,
 * loaded lazily. Advice only: the server decides (its estimate has more dictionaries).
 */
export function PasswordStrength({ password, userInputs }: PasswordStrengthProps) {
  const t = useT();
  const intl = useIntl();
  const [estimator, setEstimator] = useState<Estimator | null>(null);

  useEffect(() => {
    let current = true;
    // Without the estimator the page works as before: only the meter is missing.
    loadEstimator().then(
      (loaded) => current && setEstimator(() => loaded),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, []);

  if (!estimator || password === "") return null;
  const estimate = estimator(password, userInputs);
  const advice = estimate.score < ACCEPTED_SCORE ? feedbackMessages(intl, estimate) : [];
  const label = t(SCORE_LABELS[estimate.score] ?? "strength.0");
  return (
    <div className="strength" aria-live="polite">
      <meter min={0} max={4} low={2} high={3} optimum={4} value={estimate.score} aria-label={t("strength.label")} />
      <span className={estimate.score >= ACCEPTED_SCORE ? "strength-ok" : "strength-weak"}>
        {t("strength.verdict", { strength: label })}
      </span>
      {advice.length > 0 && (
        <ul className="strength-advice">
          {advice.map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
