// Writes `name.br` and `name.gz` beside every compressible file of the build, so the server sends
// them as they are (brotli at its best level is too slow to run per request) to clients that
// accept them. Node's own zlib: no dependency.
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import type { Plugin } from "vite";

/** Text formats; images and fonts other than SVG are compressed already. */
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|txt|xml|map|webmanifest)$/;
/** Below this, the headers cost more than compression saves. */
const MIN_BYTES = 1024;

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(folder, entry.name);
      return entry.isDirectory() ? filesUnder(path) : Promise.resolve([path]);
    }),
  );
  return nested.flat();
}

/** Compresses `file` both ways; a variant that is not smaller is not written. */
async function precompress(file: string): Promise<void> {
  const original = await readFile(file);
  const variants: [string, Buffer][] = [
    [
      "br",
      brotliCompressSync(original, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: original.length,
        },
      }),
    ],
    ["gz", gzipSync(original, { level: constants.Z_BEST_COMPRESSION })],
  ];
  await Promise.all(
    variants
      .filter(([, compressed]) => compressed.length < original.length)
      .map(([suffix, compressed]) => writeFile(`${file}.${suffix}`, compressed)),
  );
}

export function precompressPlugin(): Plugin {
  let outDir = "dist";
  return {
    name: "custadmin-precompress",
    apply: "build",
    configResolved(config) {
      outDir = config.build.outDir;
    },
    async closeBundle() {
      const files = await filesUnder(outDir);
      const candidates = await Promise.all(
        files
          .filter((file) => COMPRESSIBLE.test(file))
          .map(async (file) => ((await stat(file)).size >= MIN_BYTES ? file : null)),
      );
      await Promise.all(
        candidates.filter((file): file is string => file !== null).map(precompress),
      );
    },
  };
}
