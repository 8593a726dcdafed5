import type { Client } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Account = Schemas["AccountResponse"];
export type Language = Schemas["Language"];
export type ProblemCode = Schemas["ProblemCode"];
export type EventKind = Schemas["EventKind"];
export type OidcScope = Schemas["OidcScope"];
export type Api = Client<paths>;

/** Problems the SPA makes up itself when no problem document arrived. */
export type LocalProblemCode = "network_error" | "unexpected_response";
export type AppProblemCode = ProblemCode | LocalProblemCode;

/**
 * A problem document as the SPA keeps it: the server's, or a local one for a network failure.
 * `retryAt` fixes the deadline of a throttled call when the answer arrives (epoch ms), so the
 * message does not move on every render.
 */
export type Problem = Omit<Schemas["Problem"], "code"> & { code: AppProblemCode; retryAt?: number };

/**
 * A proof for a privileged action: a code, a recovery code, the password (two-factor off) or a
 * passkey's answer; `{}` asks the server first whether one is needed.
 */
export type Proof = Schemas["ReauthenticationRequest"];
