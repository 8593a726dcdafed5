// Plain HTTP calls to arrange state the browser test is not about.
import { totp } from "./totp.mjs";

export function apiClient(baseUrl) {
  async function call(method, path, { token, body } = {}) {
    const response = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: {
        ...(body ? { "Content-Type": "application/json" } : {}),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    const json = text ? JSON.parse(text) : null;
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}`);
    return json;
  }

  return {
    call,
    register: (username, password) => call("POST", "/auth/register", { body: { username, password } }),
    login: (username, password) => call("POST", "/auth/login", { body: { username, password } }),
    /**
     * Switches two-factor on for an existing account; returns the TOTP secret and the step used.
     * It confirms with the previous step's code (the server accepts one step either side), so the
     * test has the current and the next step left for sign-in and re-authentication, no waiting.
     */
    async enableTwoFactor(username, password) {
      const { access_token: token } = await this.login(username, password);
      const { secret } = await call("POST", "/account/two-factor/enroll", { token, body: { password } });
      // Near the end of a step the previous one could be two old when the request lands: use this one.
      const now = Date.now();
      const usedStep = Math.floor(now / 30_000) - (now % 30_000 < 28_000 ? 1 : 0);
      await call("POST", "/account/two-factor/confirm", { token, body: { code: totp(secret, usedStep * 30_000) } });
      return { secret, usedStep };
    },
    /** Registers a customer and switches two-factor on, as `enableTwoFactor`. */
    async customerWithTwoFactor(username, password) {
      await this.register(username, password);
      return this.enableTwoFactor(username, password);
    },
  };
}
