import "server-only";
import { env } from "~/env";
import { AppPasswordHasher, appPasswordKey } from "./domain/app-passwords";

let cached: AppPasswordHasher | undefined;

/** The process's app-password hasher (key from APP_PASSWORD_PEPPER or AUTH_SECRET, see there). */
export function appPasswordHasher(): AppPasswordHasher {
  cached ??= new AppPasswordHasher(appPasswordKey(env()));
  return cached;
}
