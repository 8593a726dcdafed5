// Starts the real `custadmin` binary on a free port with a fresh SQLite database in a temp dir.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

function binary() {
  const bin = process.env.CUSTADMIN_BIN ?? path.join(repoRoot, "target/debug/custadmin");
  if (!existsSync(bin)) {
    throw new Error(`custadmin binary not found at ${bin}: build it or set CUSTADMIN_BIN`);
  }
  return bin;
}

function staticDir() {
  const dir = path.join(repoRoot, "frontend/dist");
  if (!existsSync(path.join(dir, "index.html"))) {
    throw new Error(`no built SPA at ${dir}: run \`npm --prefix frontend run build\` first`);
  }
  return dir;
}

/** The server's environment: ours minus every CUSTADMIN_* (it refuses unknown ones), plus the test settings. */
function environment(dataDir, extra) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("CUSTADMIN_")));
  return {
    ...env,
    CUSTADMIN_DATA_DIR: dataDir,
    CUSTADMIN_BIND: "127.0.0.1:0",
    CUSTADMIN_STATIC_DIR: staticDir(),
    CUSTADMIN_ARGON2_MEMORY_KIB: "8",
    CUSTADMIN_ARGON2_ITERATIONS: "1",
    RUST_LOG: "warn,custadmin=info",
    // JSON lines: the serving line's port is read from them.
    CUSTADMIN_LOG_FORMAT: "json",
    ...extra,
  };
}

export async function startServer(extraEnv = {}) {
  const bin = binary();
  const dataDir = mkdtempSync(path.join(tmpdir(), "custadmin-e2e-"));
  const env = environment(dataDir, extraEnv);
  const child = spawn(bin, ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  const log = [];
  child.stderr.on("data", (chunk) => log.push(chunk.toString()));

  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`custadmin did not start:\n${log.join("")}`)), 20_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`custadmin exited with ${code}:\n${log.join("")}`));
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      log.push(line + "\n");
      if (!line.includes("custadmin is serving")) return;
      try {
        const found = JSON.parse(line).port;
        clearTimeout(timer);
        resolve(Number(found));
      } catch (error) {
        reject(error);
      }
    });
  });

  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    /** For plain HTTP calls from node: the address the server is bound to. */
    baseUrl,
    /**
     * For the browser where passkeys are involved: the server's default public URL on a loopback
     * bind is `http://localhost:<picked port>`, and WebAuthn works only on exactly that origin
     * (its host is the relying party id; an IP address cannot be one).
     */
    browserUrl: `http://localhost:${port}`,
    log,
    /** The server's data folder: mails land in `mail/` there as .eml files (no SMTP relay set). */
    dataDir,
    /** `custadmin account create`: how operators make support staff. */
    createAccount(username, password, role = "customer") {
      const result = spawnSync(bin, ["account", "create", "--username", username, "--role", role], {
        env,
        input: `${password}\n`,
      });
      if (result.status !== 0) {
        throw new Error(`account create failed: ${result.stdout}${result.stderr}`);
      }
    },
    /** Runs `custadmin <args>` against this server's database and keys; its JSON output, parsed. */
    cli(args, input) {
      const result = spawnSync(bin, args, { env, input });
      if (result.status !== 0) {
        throw new Error(`custadmin ${args.join(" ")} failed: ${result.stdout}${result.stderr}`);
      }
      return JSON.parse(result.stdout.toString());
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
