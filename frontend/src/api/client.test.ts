import { afterEach, describe, expect, it } from "vitest";
import { account as anAccount, fakeFetch, json, problem, tokens } from "../test/fakeServer";
import { createApi, REFRESH_LOCK } from "./client";

/**
 * Web Locks as a browser grants them for one origin: one holder at a time, in request order.
 * Shared by every "tab" in a test, like the browser shares it between tabs.
 */
class FakeLocks {
  readonly requested: string[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  request<T>(name: string, callback: () => Promise<T>): Promise<T> {
    this.requested.push(name);
    const granted = this.queue.then(callback);
    this.queue = granted.catch(() => undefined);
    return granted;
  }
}

function installLocks(locks: FakeLocks) {
  Object.defineProperty(navigator, "locks", { value: locks, configurable: true });
}

/**
 * A server that rotates the refresh cookie of one browser on every use and, like a strict server,
 * refuses a cookie it has already rotated. `inFlight` counts refreshes being handled at once.
 */
function rotatingServer() {
  const state = { cookie: 1, presented: [] as number[], inFlight: 0, mostInFlight: 0 };
  const refresh = async () => {
    const presented = state.cookie; // the browser sends whatever cookie it holds now
    state.presented.push(presented);
    state.inFlight += 1;
    state.mostInFlight = Math.max(state.mostInFlight, state.inFlight);
    await new Promise((resolve) => setTimeout(resolve, 5));
    state.inFlight -= 1;
    if (presented !== state.cookie) return problem(401, "invalid_refresh_token");
    state.cookie += 1;
    return json(200, tokens(`access-${state.cookie}`));
  };
  return { state, routes: { "POST /api/v1/auth/refresh": refresh } };
}

afterEach(() => {
  Reflect.deleteProperty(navigator, "locks");
});

describe("refreshing the session", () => {
  it("sends an empty JSON body, so the server reads the cookie and its CSRF check passes", async () => {
    const { fetchImpl, calls } = fakeFetch({ "POST /api/v1/auth/refresh": () => json(200, tokens("fresh")) });
    const { session } = createApi(fetchImpl);
    expect(await session.refresh()).toBe(true);
    expect(session.token).toBe("fresh");
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toEqual({});
    expect(calls[0]?.headers["content-type"]).toBe("application/json");
  });

  it("shares one request between callers in the same tab when Web Locks are missing", async () => {
    expect("locks" in navigator).toBe(false);
    const { state, routes } = rotatingServer();
    const { session } = createApi(fakeFetch(routes).fetchImpl);
    expect(await Promise.all([session.refresh(), session.refresh()])).toEqual([true, true]);
    expect(state.presented).toEqual([1]);
  });

  it("lets two tabs refreshing at the same moment take turns, so both stay signed in", async () => {
    const locks = new FakeLocks();
    installLocks(locks);
    const { state, routes } = rotatingServer();
    const first = createApi(fakeFetch(routes).fetchImpl).session;
    const second = createApi(fakeFetch(routes).fetchImpl).session;

    expect(await Promise.all([first.refresh(), second.refresh()])).toEqual([true, true]);
    expect(locks.requested).toEqual([REFRESH_LOCK, REFRESH_LOCK]);
    expect(state.mostInFlight).toBe(1);
    // The tab that waited presented the cookie the first tab's refresh had just set.
    expect(state.presented).toEqual([1, 2]);
    expect([first.token, second.token]).toEqual(["access-2", "access-3"]);
  });

  it("also takes turns for a refresh after a 401 in one tab while another tab reloads", async () => {
    const locks = new FakeLocks();
    installLocks(locks);
    const { state, routes } = rotatingServer();
    let accountCalls = 0;
    const tabRoutes = {
      ...routes,
      "GET /api/v1/account": () => (++accountCalls === 1 ? problem(401, "invalid_token") : json(200, anAccount())),
    };
    const stale = createApi(fakeFetch(tabRoutes).fetchImpl);
    const reloading = createApi(fakeFetch(tabRoutes).fetchImpl);

    const [account, reloaded] = await Promise.all([
      stale.client.GET("/api/v1/account"),
      reloading.session.refresh(),
    ]);
    expect(account.response.status).toBe(200);
    expect(reloaded).toBe(true);
    expect(state.mostInFlight).toBe(1);
    expect(state.presented).toEqual([1, 2]);
  });
});
