// dstream's cache folder, shared by the provider cache (registry/) and the parse cache (config/):
// DSTREAM_CACHE_DIR, else the platform's cache folder.
import { homedir } from "node:os";
import { join } from "node:path";

export function defaultCacheDir(env: Record<string, string | undefined>): string {
  if (env.DSTREAM_CACHE_DIR) return env.DSTREAM_CACHE_DIR;
  const home = env.HOME ?? homedir();
  if (process.platform === "darwin") return join(home, "Library", "Caches", "dstream");
  if (process.platform === "win32") {
    return join(env.LOCALAPPDATA ?? join(home, "AppData", "Local"), "dstream");
  }
  return join(env.XDG_CACHE_HOME || join(home, ".cache"), "dstream");
}
