import { WebAuthnError } from "@simplewebauthn/browser";
import { describe, expect, it } from "vitest";
import { classify, createPasskey, signWithPasskey } from "./webauthn";

const named = (name: string) => Object.assign(new Error(name), { name });
const wrapped = (code: ConstructorParameters<typeof WebAuthnError>[0]["code"], cause: Error) =>
  new WebAuthnError({ message: cause.message, code, cause });

describe("what a browser's passkey dialog ended with", () => {
  it("a closed dialog, a timeout or no passkey here (NotAllowedError) is a cancel, not a fault", () => {
    expect(classify(wrapped("ERROR_PASSTHROUGH_SEE_CAUSE_PROPERTY", named("NotAllowedError")))).toBe("cancelled");
    expect(classify(named("NotAllowedError"))).toBe("cancelled");
    expect(classify(wrapped("ERROR_CEREMONY_ABORTED", named("AbortError")))).toBe("cancelled");
  });

  it("a key already on the account's exclude list", () => {
    expect(classify(wrapped("ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED", named("InvalidStateError")))).toBe("already_registered");
  });

  it("a page on another address than the relying party's", () => {
    expect(classify(wrapped("ERROR_INVALID_RP_ID", named("SecurityError")))).toBe("wrong_site");
    expect(classify(wrapped("ERROR_INVALID_DOMAIN", named("SecurityError")))).toBe("wrong_site");
  });

  it("anything else is a failure", () => {
    expect(classify(wrapped("ERROR_AUTHENTICATOR_GENERAL_ERROR", named("UnknownError")))).toBe("failed");
    expect(classify("nonsense")).toBe("failed");
  });

  it("jsdom has no WebAuthn: nothing is attempted", async () => {
    expect(await createPasskey({ publicKey: {} })).toEqual({ ok: false, failure: "unsupported" });
    expect(await signWithPasskey({ publicKey: {} })).toEqual({ ok: false, failure: "unsupported" });
  });
});
