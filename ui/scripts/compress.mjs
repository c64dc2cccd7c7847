// After `vite build`: writes x.gz beside each text file of the build (agentd serves it with
// Content-Encoding: gzip to clients that accept it) and prints the sizes.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

const dir = new URL("../../build/ui/", import.meta.url).pathname;
const text = /\.(html|js|mjs|css|svg|json|txt)$/;
let raw = 0;
let zipped = 0;
function walk(d) {
  for (const name of readdirSync(d)) {
    const path = join(d, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (text.test(name) && statSync(path).size > 1024) {
      const bytes = readFileSync(path);
      const gz = gzipSync(bytes, { level: 9 });
      writeFileSync(path + ".gz", gz);
      raw += bytes.length;
      zipped += gz.length;
      console.log(`  ${relative(dir, path)}: ${bytes.length} -> ${gz.length} bytes gzipped`);
    }
  }
}
walk(dir);
console.log(`console: ${raw} bytes, ${zipped} gzipped, in ${dir}`);
