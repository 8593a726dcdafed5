import { useT, type MessageId } from "../i18n";

/** What an app sees with each scope, in the customer's words; `openid` is who they are. */
const SCOPE_WORDS: Partial<Record<string, MessageId>> = {
  openid: "apps.scope_openid",
  profile: "apps.scope_profile",
  email: "apps.scope_email",
  offline_access: "apps.scope_offline_access",
};

/** The scopes the SPA words, in a fixed order; a scope unknown to this SPA is shown as it is. */
export function scopeLines(scopes: readonly string[]): { scope: string; words: MessageId | null }[] {
  const known = Object.keys(SCOPE_WORDS);
  const ordered = [...known.filter((scope) => scopes.includes(scope)), ...scopes.filter((scope) => !known.includes(scope))];
  return ordered.map((scope) => ({ scope, words: SCOPE_WORDS[scope] ?? null }));
}

/** One line per scope of what an app can see or do (the consent card, Apps with access, support). */
export function AppScopes({ scopes, labelledBy }: { scopes: readonly string[]; labelledBy?: string }) {
  const t = useT();
  return (
    <ul className="scopes" aria-labelledby={labelledBy}>
      {scopeLines(scopes).map(({ scope, words }) => (
        <li key={scope}>{words ? t(words) : scope}</li>
      ))}
    </ul>
  );
}
