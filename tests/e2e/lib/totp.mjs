// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) from a base32 secret, with node's crypto.
import { createHmac } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export function base32Decode(input) {
  const clean = input.replace(/[\s=]/g, "").toUpperCase();
  let bits = 0;
  let value = 0;
  const bytes = [];
  for (const char of clean) {
    const index = ALPHABET.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

export function totp(secret, timeMs = Date.now(), stepSeconds = 30) {
  const counter = Math.floor(timeMs / 1000 / stepSeconds);
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const hmac = createHmac("sha1", base32Decode(secret)).update(message).digest();
  const offset = hmac[hmac.length - 1] & 0x0f;
  const binary = hmac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, "0");
}

/**
 * Hands out codes for steps not yet used: the server refuses a step it accepted before, but
 * accepts one step either side of now. Starting from the previous step leaves three codes
 * (previous, current, next) before a test would have to wait for the clock.
 */
export class CodeSource {
  constructor(secret, lastUsedStep = 0) {
    this.secret = secret;
    this.lastUsedStep = lastUsedStep;
  }

  async next() {
    for (;;) {
      const now = Date.now();
      const current = Math.floor(now / 30_000);
      // Late in a step the previous one may be two old by the time the code reaches the server.
      const earliest = now % 30_000 < 25_000 ? current - 1 : current;
      const step = Math.max(this.lastUsedStep + 1, earliest);
      if (step <= current + 1) {
        this.lastUsedStep = step;
        return totp(this.secret, step * 30_000);
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}
