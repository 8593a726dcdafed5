import { useQuery } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import { useIntl } from "react-intl";
import { useCreateApiToken, useRevokeApiToken } from "../../api/apiTokens";
import { useApi } from "../../api/context";
import { toProblem } from "../../api/problems";
import { apiTokensQuery } from "../../api/queries";
import type { Account, Schemas } from "../../api/types";
import { ProblemAlert, StatusMessage } from "../../components/Alert";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { Field } from "../../components/Field";
import { ReauthPrompt } from "../../components/ReauthPrompt";
import { useT, type MessageId } from "../../i18n";
import { useFocusOnMount } from "../../hooks/useFocusOnMount";
import { usePrivileged } from "../../hooks/usePrivileged";

type Scope = Schemas["Scope"];
type Token = Schemas["TokenSummary"];
type Created = Schemas["CreatedToken"];

const SCOPE_LABELS: Record<Scope, MessageId> = {
  "account:read": "tokens.scope_account_read",
  "support:read": "tokens.scope_support_read",
  "support:reset": "tokens.scope_support_reset",
};

/** The scopes this account may grant: support scopes only to support staff (the server agrees). */
export function grantableScopes(role: Account["role"]): Scope[] {
  return role === "support" ? ["account:read", "support:read", "support:reset"] : ["account:read"];
}

const DEFAULT_DAYS = 90;
/** A token that acts on customers lives a month at most (the server refuses longer). */
const SUPPORT_MAX_DAYS = 30;

const isSupportScope = (scope: Scope) => scope.startsWith("support:");

/** The networks typed, one per comma, space or line; the server checks each. */
export function networkList(text: string): string[] {
  return text.split(/[\s,;]+/).filter((network) => network !== "");
}

/**
 * API tokens for programs acting for this account: made as a privileged action, the secret shown
 * once; listed without secrets; revoked one by one.
 */
export function ApiTokens({ account }: { account: Account }) {
  const t = useT();
  const intl = useIntl();
  const { $api } = useApi();
  const tokens = useQuery(apiTokensQuery($api));
  const revokeToken = useRevokeApiToken();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const scopes = grantableScopes(account.role);

  const [creating, setCreating] = useState(false);
  const [name, setName] = useState("");
  const [days, setDays] = useState(String(DEFAULT_DAYS));
  const [networks, setNetworks] = useState("");
  const [chosen, setChosen] = useState<Scope[]>(["account:read"]);
  const supportChosen = chosen.some(isSupportScope);
  const [created, setCreated] = useState<Created | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const [message, setMessage] = useState("");
  // The request of the attempt under way, so a retry with a proof sends the same thing.
  const request = useRef<Omit<Schemas["CreateTokenRequest"], "code" | "password" | "recovery_code">>({
    name: "",
    scopes: [],
    expires_in_days: DEFAULT_DAYS,
  });

  const create = usePrivileged(
    useCreateApiToken(),
    (proof) => ({ ...request.current, ...proof }),
    (data) => {
      setCreated(data);
      setCreating(false);
      setName("");
      setDays(String(DEFAULT_DAYS));
      setNetworks("");
      setChosen(["account:read"]);
    },
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    if (create.busy) return;
    setMessage("");
    const allowed = networkList(networks);
    request.current = {
      name: name.trim(),
      scopes: chosen,
      expires_in_days: Number(days),
      ...(allowed.length > 0 ? { allowed_networks: allowed } : {}),
    };
    void create.start();
  }

  function revoke(token: Token) {
    setRevoking(null);
    setMessage("");
    revokeToken.mutate(token.id, {
      onSuccess: () => setMessage(t("tokens.revoked", { name: token.name })),
      onSettled: () => headingRef.current?.focus(),
    });
  }

  const when = (at: string) => intl.formatDate(at, { dateStyle: "medium", timeStyle: "short" });
  const list = tokens.data?.tokens;

  return (
    <section className="panel" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading" tabIndex={-1} ref={headingRef}>
        {t("tokens.heading")}
      </h2>
      <p>{t("tokens.explain")}</p>
      <StatusMessage>{message}</StatusMessage>
      <ProblemAlert problem={revokeToken.error} />
      {created && (
        <CreatedTokenPanel
          token={created}
          onDone={() => {
            setCreated(null);
            headingRef.current?.focus();
          }}
        />
      )}

      <ProblemAlert problem={tokens.error ? toProblem(tokens.error) : null} />
      {!list && !tokens.error && <p>{t("common.loading")}</p>}
      {list?.length === 0 && <p>{t("tokens.none")}</p>}
      {list && list.length > 0 && (
        <ul className="places" aria-labelledby="tokens-heading">
          {list.map((token) => (
            <li key={token.id}>
              <strong className="agent">{token.name}</strong>
              <span>
                <code>{token.prefix}…</code> · {token.scopes.map((s) => t(SCOPE_LABELS[s])).join(", ")}
              </span>
              <span className="muted">
                {t("tokens.created_at", { date: when(token.created_at) })}
                {" · "}
                {token.last_used_at ? t("sessions.last_used", { date: when(token.last_used_at) }) : t("tokens.never_used")}
                {" · "}
                {t("tokens.expires_at", { date: when(token.expires_at) })}
                {" · "}
                {token.allowed_networks
                  ? t("tokens.only_from", { networks: intl.formatList(token.allowed_networks) })
                  : t("tokens.any_network")}
              </span>
              <button type="button" onClick={() => setRevoking(token)} aria-label={t("tokens.revoke_label", { name: token.name })}>
                {t("tokens.revoke")}
              </button>
            </li>
          ))}
        </ul>
      )}

      <ProblemAlert problem={create.problem} />
      {create.reauthNeeded ? (
        <ReauthPrompt onSubmit={create.retry} onCancel={create.cancel} />
      ) : creating ? (
        <form onSubmit={submit} aria-labelledby="token-form-heading">
          <h3 id="token-form-heading">{t("tokens.new")}</h3>
          <Field
            label={t("tokens.name")}
            hint={t("tokens.name_hint")}
            name="token-name"
            required
            maxLength={100}
            autoComplete="off"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            autoFocus
          />
          <fieldset>
            <legend>{t("tokens.scopes")}</legend>
            {scopes.map((scope) => (
              <div className="checkbox" key={scope}>
                <input
                  id={`scope-${scope}`}
                  type="checkbox"
                  checked={chosen.includes(scope)}
                  onChange={(e) => {
                    const checked = e.currentTarget.checked;
                    setChosen((now) => (checked ? [...now, scope] : now.filter((s) => s !== scope)));
                    if (checked && isSupportScope(scope) && Number(days) > SUPPORT_MAX_DAYS) setDays(String(SUPPORT_MAX_DAYS));
                  }}
                />
                <label htmlFor={`scope-${scope}`}>{t(SCOPE_LABELS[scope])}</label>
              </div>
            ))}
          </fieldset>
          <Field
            label={t("tokens.days")}
            hint={t(supportChosen ? "tokens.days_hint_support" : "tokens.days_hint")}
            name="token-days"
            type="number"
            inputMode="numeric"
            required
            min={1}
            max={supportChosen ? SUPPORT_MAX_DAYS : 365}
            value={days}
            onChange={(e) => setDays(e.currentTarget.value)}
          />
          <Field
            label={t("tokens.networks")}
            hint={t("tokens.networks_hint")}
            name="token-networks"
            autoComplete="off"
            spellcheck={false}
            value={networks}
            onChange={(e) => setNetworks(e.currentTarget.value)}
            error={create.problem?.field === "allowed_networks" ? t("signup.check_field") : undefined}
          />
          <div className="actions">
            <button type="submit" className="primary" disabled={create.busy || chosen.length === 0}>
              {t("tokens.create")}
            </button>
            <button
              type="button"
              onClick={() => {
                setCreating(false);
                create.setProblem(null);
              }}
            >
              {t("common.cancel")}
            </button>
          </div>
        </form>
      ) : (
        <div className="actions">
          <button
            type="button"
            onClick={() => {
              setMessage("");
              setCreated(null);
              create.setProblem(null);
              setCreating(true);
            }}
          >
            {t("tokens.new")}
          </button>
        </div>
      )}

      {revoking && (
        <ConfirmDialog
          title={t("tokens.revoke_title", { name: revoking.name })}
          onCancel={() => setRevoking(null)}
          onConfirm={() => revoke(revoking)}
        >
          <p>{t("tokens.revoke_body")}</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** The secret, this once, with a copy button. */
function CreatedTokenPanel({ token, onDone }: { token: Created; onDone: () => void }) {
  const t = useT();
  const headingRef = useFocusOnMount<HTMLHeadingElement>();
  const [copied, setCopied] = useState("");

  async function copy() {
    try {
      await navigator.clipboard.writeText(token.token);
      setCopied(t("tokens.copied"));
    } catch {
      setCopied(t("tokens.copy_failed"));
    }
  }

  return (
    <div className="hint-box created-token">
      <h3 tabIndex={-1} ref={headingRef}>
        {t("tokens.created_heading", { name: token.name })}
      </h3>
      <p>
        <strong>{t("tokens.once")}</strong>
      </p>
      <p>
        <code className="secret" aria-label={t("tokens.secret_label")}>
          {token.token}
        </code>
      </p>
      <div className="actions">
        <button type="button" onClick={() => void copy()}>
          {t("tokens.copy")}
        </button>
        <button type="button" className="primary" onClick={onDone}>
          {t("codes.done")}
        </button>
      </div>
      <p role="status" aria-live="polite">
        {copied}
      </p>
    </div>
  );
}
