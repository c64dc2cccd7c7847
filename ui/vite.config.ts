import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The console is served by agentd under /console/ from the directory this writes (build/ui,
// beside build/agentd; agentd --ui-dir to serve another). `npm run dev` serves it on :5173 and
// forwards the API to a running agentd (AGENTD_URL, default http://127.0.0.1:8123).
const agentd = process.env.AGENTD_URL ?? "http://127.0.0.1:8123";
const apiPaths = [
  "/assistants", "/threads", "/runs", "/store", "/info", "/ok", "/metrics", "/auth",
  "/broadcast", "/console/api",
];

export default defineConfig({
  base: "/console/",
  plugins: [react()],
  build: {
    outDir: "../build/ui",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: Object.fromEntries(apiPaths.map((p) => [p, { target: agentd, changeOrigin: true, ws: true }])),
  },
});
