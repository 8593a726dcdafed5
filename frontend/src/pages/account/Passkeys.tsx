import { useQuery } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import { useIntl } from "react-intl";
import { useApi } from "../../api/context";
import {
  useFinishPasskeyRegistration,
  useRemovePasskey,
  useRenamePasskey,
  useStartPasskeyRegistration,
} from "../../api/passkeys";
import { settle, toProblem } from "../../api/problems";
import { passkeysQuery } from "../../api/queries";
import type { Account, Schemas } from "../../api/types";
import { createPasskey, webAuthnAvailable, type CeremonyFailure } from "../../api/webauthn";
import { ProblemAlert, StatusMessage } from "../../components/Alert";
import { CeremonyNote } from "../../components/CeremonyNote";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { Field } from "../../components/Field";
import { ReauthPrompt } from "../../components/ReauthPrompt";
import { RecoveryCodes } from "../../components/RecoveryCodes";
import { useT } from "../../i18n";
import { usePrivileged } from "../../hooks/usePrivileged";

type Passkey = Schemas["PasskeySummary"];
type Options = Record<string, unknown>;

/** Names are 1 to 100 characters (the server counts characters, not bytes). */
const NAME_MAX = 100;

/**
 * Passkeys and security keys: add one with a name (a privileged action, then the browser's own
 * dialog), list them with their last use, rename and remove them.
 */
export function Passkeys({ account }: { account: Account }) {
  const t = useT();
  const intl = useIntl();
  const { $api } = useApi();
  const passkeys = useQuery(passkeysQuery($api));
  const finish = useFinishPasskeyRegistration();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const supported = webAuthnAvailable();

  const [adding, setAdding] = useState(false);
  const [name, setName] = useState("");
  const [inBrowser, setInBrowser] = useState(false);
  const [failure, setFailure] = useState<CeremonyFailure | null>(null);
  const [message, setMessage] = useState("");
  const [codes, setCodes] = useState<string[] | null>(null);
  const [renaming, setRenaming] = useState<Passkey | null>(null);
  const [removing, setRemoving] = useState<Passkey | null>(null);
  // What the attempt under way is about, so a retry with a proof sends the same thing.
  const pendingName = useRef("");
  const pendingRemoval = useRef<Passkey | null>(null);

  const list = passkeys.data?.passkeys;
  const hasTotp = account.two_factor.methods.includes("totp");

  function clearNotes() {
    setMessage("");
    setFailure(null);
    finish.reset();
  }

  /** The browser's dialog, then the server checks and stores the new credential. */
  async function register(options: Options) {
    setInBrowser(true);
    const ceremony = await createPasskey(options);
    if (!ceremony.ok) {
      setInBrowser(false);
      setFailure(ceremony.failure);
      return;
    }
    const added = await settle(finish.mutateAsync(ceremony.credential));
    setInBrowser(false);
    if (!added.ok) return;
    setAdding(false);
    setName("");
    setMessage(t("passkeys.added", { name: added.data.name }));
    if (added.data.recovery_codes?.length) setCodes(added.data.recovery_codes);
    else headingRef.current?.focus();
  }

  const start = usePrivileged(
    useStartPasskeyRegistration(),
    (proof) => ({ name: pendingName.current, ...proof }),
    (data) => void register(data.options as Options),
  );

  const remove = usePrivileged(
    useRemovePasskey(),
    (proof) => ({ id: pendingRemoval.current?.id ?? "", proof }),
    () => {
      setMessage(t("passkeys.removed", { name: pendingRemoval.current?.name ?? "" }));
      pendingRemoval.current = null;
      headingRef.current?.focus();
    },
  );

  function submitAdd(event: FormEvent) {
    event.preventDefault();
    if (start.busy || inBrowser) return;
    clearNotes();
    pendingName.current = name.trim();
    void start.start();
  }

  function confirmRemove(passkey: Passkey) {
    setRemoving(null);
    clearNotes();
    pendingRemoval.current = passkey;
    void remove.start();
  }

  const when = (at: string) => intl.formatDate(at, { dateStyle: "medium", timeStyle: "short" });
  // Removing the last passkey of an account without an OTP application switches two-factor off.
  const lastFactor = list?.length === 1 && !hasTotp;

  return (
    <section className="panel" aria-labelledby="passkeys-heading">
      <h2 id="passkeys-heading" tabIndex={-1} ref={headingRef}>
        {t("passkeys.heading")}
      </h2>
      <p>{t("passkeys.explain")}</p>
      {!supported && <p className="alert alert-warning">{t("passkeys.unsupported")}</p>}
      <StatusMessage>{message}</StatusMessage>
      <ProblemAlert problem={finish.error} />
      <CeremonyNote failure={failure} />
      {codes && (
        <RecoveryCodes
          codes={codes}
          username={account.username}
          explain="codes.explain_passkey"
          onAcknowledged={() => {
            setCodes(null);
            headingRef.current?.focus();
          }}
        />
      )}

      <ProblemAlert problem={passkeys.error ? toProblem(passkeys.error) : null} />
      {!list && !passkeys.error && <p>{t("common.loading")}</p>}
      {list?.length === 0 && <p>{t("passkeys.none")}</p>}
      {list && list.length > 0 && (
        <ul className="places" aria-labelledby="passkeys-heading">
          {list.map((passkey) =>
            renaming?.id === passkey.id ? (
              <li key={passkey.id}>
                <RenameForm
                  passkey={passkey}
                  onDone={(renamed) => {
                    setRenaming(null);
                    if (renamed) setMessage(t("passkeys.renamed", { name: renamed.name }));
                  }}
                />
              </li>
            ) : (
              <li key={passkey.id}>
                <strong className="agent">{passkey.name}</strong>
                <span className="muted">
                  {t("passkeys.created_at", { date: when(passkey.created_at) })}
                  {" · "}
                  {passkey.last_used_at
                    ? t("sessions.last_used", { date: when(passkey.last_used_at) })
                    : t("tokens.never_used")}
                </span>
                <div className="actions">
                  <button
                    type="button"
                    onClick={() => {
                      clearNotes();
                      setRenaming(passkey);
                    }}
                    aria-label={t("passkeys.rename_label", { name: passkey.name })}
                  >
                    {t("passkeys.rename")}
                  </button>
                  <button
                    type="button"
                    onClick={() => {
                      clearNotes();
                      remove.cancel();
                      setRemoving(passkey);
                    }}
                    aria-label={t("passkeys.remove_label", { name: passkey.name })}
                  >
                    {t("passkeys.remove")}
                  </button>
                </div>
              </li>
            ),
          )}
        </ul>
      )}

      <ProblemAlert problem={remove.problem} />
      {remove.reauthNeeded && (
        <ReauthPrompt
          onSubmit={remove.retry}
          onCancel={() => {
            pendingRemoval.current = null;
            remove.cancel();
          }}
        />
      )}

      <ProblemAlert problem={start.problem} />
      {start.reauthNeeded ? (
        <ReauthPrompt onSubmit={start.retry} onCancel={start.cancel} />
      ) : adding ? (
        <form onSubmit={submitAdd} aria-labelledby="passkey-form-heading">
          <h3 id="passkey-form-heading">{t("passkeys.add")}</h3>
          <Field
            label={t("passkeys.name")}
            hint={t("passkeys.name_hint")}
            name="passkey-name"
            required
            maxLength={NAME_MAX}
            autoComplete="off"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            autoFocus
          />
          <StatusMessage>{inBrowser && t("passkeys.follow_browser")}</StatusMessage>
          <div className="actions">
            <button type="submit" className="primary" disabled={start.busy || inBrowser}>
              {t("passkeys.continue")}
            </button>
            <button
              type="button"
              onClick={() => {
                setAdding(false);
                clearNotes();
                start.setProblem(null);
              }}
            >
              {t("common.cancel")}
            </button>
          </div>
        </form>
      ) : (
        supported && (
          <div className="actions">
            <button
              type="button"
              onClick={() => {
                clearNotes();
                setCodes(null);
                start.setProblem(null);
                setAdding(true);
              }}
            >
              {t("passkeys.add")}
            </button>
          </div>
        )
      )}

      {removing && (
        <ConfirmDialog
          title={t("passkeys.remove_title", { name: removing.name })}
          onCancel={() => setRemoving(null)}
          onConfirm={() => confirmRemove(removing)}
        >
          <p>{t(lastFactor ? "passkeys.remove_last_body" : "passkeys.remove_body")}</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function RenameForm({ passkey, onDone }: { passkey: Passkey; onDone: (renamed: Passkey | null) => void }) {
  const t = useT();
  const rename = useRenamePasskey();
  const [name, setName] = useState(passkey.name);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (rename.isPending) return;
    rename.mutate({ id: passkey.id, name: name.trim() }, { onSuccess: onDone });
  }

  return (
    <form onSubmit={submit} aria-label={t("passkeys.rename_label", { name: passkey.name })}>
      <Field
        label={t("passkeys.new_name")}
        name="passkey-new-name"
        required
        maxLength={NAME_MAX}
        autoComplete="off"
        value={name}
        onChange={(e) => setName(e.currentTarget.value)}
        autoFocus
      />
      <ProblemAlert problem={rename.error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={rename.isPending}>
          {t("passkeys.save_name")}
        </button>
        <button type="button" onClick={() => onDone(null)}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}
