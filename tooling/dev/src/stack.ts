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
  start(env: Env): Promise<StartedService>;
}

export interface Stack {
  env: Env;
  info: { name: string; lines: string[] }[];
  stop(): Promise<void>;
}

export async function startStack(services: LocalService[], baseEnv: Env): Promise<Stack> {
  const started: { name: string; service: StartedService }[] = [];
  const env: Env = { ...baseEnv };
  const info: Stack["info"] = [];
  const stop = async () => {
    for (const { service } of started.splice(0).reverse()) {
      await service.stop().catch((error: unknown) => console.error("dev: stop failed:", error));
    }
  };
  try {
    for (const service of services) {
      const s = await service.start(env);
      started.push({ name: service.name, service: s });
      Object.assign(env, s.env ?? {});
      if (s.info?.length) info.push({ name: service.name, lines: s.info });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { env, info, stop };
}
