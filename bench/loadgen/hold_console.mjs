// Holds the console's operations view open in headless Chromium (Debian's, through the
// playwright-core that tests/console installs) until SIGTERM: what an operator's dashboard
// costs the server while a benchmark runs (console_cost.sh).
//
//   node bench/loadgen/hold_console.mjs http://127.0.0.1:18123 [pages]
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "..", "tests", "console", "package.json"));
const { chromium } = require("playwright-core");

const url = process.argv[2];
const pages = Number(process.argv[3] ?? 1);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_BIN ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
for (let i = 0; i < pages; i++) {
  const page = await (await browser.newContext({ baseURL: url })).newPage();
  await page.goto("/console/ops");
  await page.getByTestId("ops-status").filter({ hasText: "live" }).waitFor({ timeout: 20_000 });
}
console.log("live");  // console_cost.sh waits for this line
const stop = async () => {
  await browser.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
setInterval(() => {}, 1 << 30);
