import { defineConfig } from "vite";

// The app embeds ui/dist; WebKitGTK 2.50 runs ES2021.
export default defineConfig({
  build: { target: "es2021", outDir: "dist", emptyOutDir: true },
  clearScreen: false,
});
