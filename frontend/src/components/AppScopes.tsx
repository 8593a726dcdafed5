import type { OidcScope } from "../api/types";
import { useT, type MessageId } from "../i18n";

/**
 * What an app sees or may do with each scope, in the customer's words, in this order: `Record`
 * makes a scope added to openapi.yaml fail typecheck until both catalogues word it.
 */
const SCOPE_WORDS: Record<OidcScope, MessageId> = {
  openid: "apps.scope_openid",
  profile: "apps.scope_profile",
  email: "apps.scope_email",
  offline_access: "apps.scope_offline_access",
};
const ORDER = Object.keys(SCOPE_WORDS) as OidcScope[];

/** One line per scope (the consent card, Apps with access, the support desk). */
export function AppScopes({ scopes, labelledBy }: { scopes: readonly OidcScope[]; labelledBy?: string }) {
  const t = useT();
  return (
    <ul className="scopes" aria-labelledby={labelledBy}>
      {ORDER.filter((scope) => scopes.includes(scope)).map((scope) => (
        <li key={scope}>{t(SCOPE_WORDS[scope])}</li>
      ))}
    </ul>
  );
}
