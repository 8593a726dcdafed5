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
    /** Registers a customer and switches two-factor on; returns the TOTP secret and the step used. */
    async customerWithTwoFactor(username, password) {
      await this.register(username, password);
      const { access_token: token } = await this.login(username, password);
      const { secret } = await call("POST", "/account/two-factor/enroll", { token, body: { password } });
      const now = Date.now();
      await call("POST", "/account/two-factor/confirm", { token, body: { code: totp(secret, now) } });
      return { secret, usedStep: Math.floor(now / 30_000) };
    },
  };
}
