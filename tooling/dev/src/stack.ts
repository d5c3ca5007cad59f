/**
 * `npm run dev` composes local services in one place. Each service is started in order, may use
 * what earlier ones exported (env), and is stopped in reverse order. A real service given by env
 * (e.g. DATABASE_URL) replaces its stand-in: the service sees the env and exports nothing new.
 */
export type Env = Record<string, string>;

export interface StartedService {
  /** Variables this service provides to the services after it and to web/worker. */
  env?: Env;
  /** Lines printed in the banner, e.g. URLs and logins. */
  info?: string[];
  stop(): Promise<void>;
}

export interface LocalService {
  name: string;
  /** `signal` aborts a start that waits (e.g. for a URL to answer) when the user hits Ctrl-C. */
  start(env: Env, signal?: AbortSignal): Promise<StartedService>;
}

export interface Stack {
  env: Env;
  info: { name: string; lines: string[] }[];
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Aborting stops what has started so far and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Longest wait for one service to stop before moving on to the next (default 10 s). */
  stopTimeoutMs?: number;
  log?: (line: string) => void;
}

export async function startStack(
  services: LocalService[],
  baseEnv: Env,
  options: StackOptions = {},
): Promise<Stack> {
  const { signal, stopTimeoutMs = 10_000, log = (line) => console.error(line) } = options;
  const started: { name: string; service: StartedService }[] = [];
  const env: Env = { ...baseEnv };
  const info: Stack["info"] = [];
  const stopOne = async (name: string, service: StartedService) => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), stopTimeoutMs);
    });
    const result = await Promise.race([
      service
        .stop()
        .catch((error: unknown) => log(`dev: stopping ${name} failed: ${String(error)}`)),
      timedOut,
    ]);
    clearTimeout(timer);
    if (result === "timeout") log(`dev: ${name} did not stop within ${stopTimeoutMs / 1000} s`);
  };
  const stop = async () => {
    for (const { name, service } of started.splice(0).reverse()) await stopOne(name, service);
  };
  try {
    for (const service of services) {
      signal?.throwIfAborted();
      const s = await service.start(env, signal);
      started.push({ name: service.name, service: s });
      Object.assign(env, s.env ?? {});
      if (s.info?.length) info.push({ name: service.name, lines: s.info });
    }
    signal?.throwIfAborted();
  } catch (error) {
    await stop();
    throw error;
  }
  return { env, info, stop };
}
