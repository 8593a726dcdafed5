// Mails the server wrote as .eml files (no SMTP relay configured) under `<data dir>/mail/`.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

/** Quoted-printable: soft line breaks (`=` at a line's end) go, `=XX` becomes the byte. */
export function decodeQuotedPrintable(text) {
  const joined = text.replace(/=\r?\n/g, "");
  const bytes = [];
  for (let i = 0; i < joined.length; i += 1) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** The readable text of a raw mail: every part decoded by its Content-Transfer-Encoding. */
export function mailText(raw) {
  const parts = raw.split(/\r?\n--[^\r\n]+\r?\n/);
  return parts
    .map((part) => {
      const [head, ...rest] = part.split(/\r?\n\r?\n/);
      const body = rest.join("\n\n");
      const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(head ?? "")?.[1]?.toLowerCase();
      if (encoding === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
      if (encoding === "quoted-printable") return decodeQuotedPrintable(body);
      return part;
    })
    .join("\n");
}

function recipients(raw) {
  const header = raw.split(/\r?\n\r?\n/)[0] ?? "";
  // Headers may fold onto the next line (leading whitespace).
  const to = /^to:(.*(?:\r?\n[ \t].*)*)/im.exec(header)?.[1] ?? "";
  return to.toLowerCase();
}

/**
 * Waits for the newest mail to `recipient` holding a link to `linkPath` (e.g. "/verify-email")
 * and answers the link's token. The outbox delivers within about a second.
 */
export async function waitForMailedToken(dataDir, recipient, linkPath, options = {}) {
  return (await waitForMailWithLink(dataDir, recipient, linkPath, options)).token;
}

/** As `waitForMailedToken`, answering the mail's readable text beside the token. */
export async function waitForMailWithLink(dataDir, recipient, linkPath, { timeoutMs = 15_000 } = {}) {
  const folder = path.join(dataDir, "mail");
  const pattern = new RegExp(`${linkPath.replace(/[/?]/g, "\\$&")}\\?token=([A-Za-z0-9_\\-.~%]+)`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const files = existsSync(folder)
      ? readdirSync(folder)
          .filter((name) => name.endsWith(".eml"))
          .map((name) => path.join(folder, name))
          .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
      : [];
    for (const file of files) {
      const raw = readFileSync(file, "utf8");
      if (!recipients(raw).includes(recipient.toLowerCase())) continue;
      const text = mailText(raw);
      const found = pattern.exec(text);
      if (found) return { token: decodeURIComponent(found[1]), text };
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${recipient} with a ${linkPath} link in ${folder}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** An RFC 2047 header value (`=?utf-8?b?...?=` and `=?utf-8?q?...?=` words) as text. */
export function decodeHeader(value) {
  return value
    .replace(/\?=\s+=\?/g, "?==?") // whitespace between encoded words is not text
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_, charset, encoding, data) => {
      const bytes =
        encoding.toLowerCase() === "b"
          ? Buffer.from(data, "base64")
          : Buffer.from(decodeQuotedPrintable(data.replace(/_/g, " ")), "utf8");
      return new TextDecoder(charset).decode(bytes);
    });
}

/** A header of a raw mail, unfolded and decoded; "" when absent. */
export function mailHeader(raw, name) {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? "";
  const found = new RegExp(`^${name}:(.*(?:\\r?\\n[ \\t].*)*)`, "im").exec(head)?.[1] ?? "";
  return decodeHeader(found.replace(/\r?\n[ \t]/g, " ").trim());
}

/**
 * Waits for a mail to `recipient` whose decoded subject is `subject`; answers its sender,
 * subject and readable text. The outbox delivers within about a second.
 */
export async function waitForMail(dataDir, recipient, subject, { timeoutMs = 15_000 } = {}) {
  const folder = path.join(dataDir, "mail");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const files = existsSync(folder) ? readdirSync(folder).filter((name) => name.endsWith(".eml")) : [];
    for (const name of files) {
      const raw = readFileSync(path.join(folder, name), "utf8");
      if (!recipients(raw).includes(recipient.toLowerCase())) continue;
      if (mailHeader(raw, "Subject") !== subject) continue;
      return { from: mailHeader(raw, "From"), subject, text: mailText(raw).replace(/\r\n/g, "\n") };
    }
    if (Date.now() > deadline) throw new Error(`no mail "${subject}" to ${recipient} in ${folder}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
