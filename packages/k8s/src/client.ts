/**
 * Kubernetes API clients for the portal. Every call made through `objects`, `core` and
 * `coordination` has a deadline (`requestTimeoutMs`, default 15 s) from the request to the last
 * byte of the response: a hung apiserver (or a proxy in front of it) fails the call with a
 * retryable {@link KubeRequestTimeout} instead of pinning its caller forever. Watches are not
 * made through these clients (client-node's `Watch` takes the KubeConfig and its own signal), so
 * a long-lived watch never gets the deadline.
 */
import {
  CoordinationV1Api,
  CoreV1Api,
  createConfiguration,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  KubernetesObjectApi,
  ResponseContext,
  ServerConfiguration,
  wrapHttpLibrary,
  type Configuration,
  type HttpLibrary,
  type RequestContext,
} from "@kubernetes/client-node";
import { withKeepAliveAgents } from "./agents";
import { KubeRequestTimeout } from "./errors";

export interface KubeClients {
  kubeConfig: KubeConfig;
  objects: KubernetesObjectApi;
  core: CoreV1Api;
  coordination: CoordinationV1Api;
}

export interface KubeClientOptions {
  /** Path of a kubeconfig file; absent: in-cluster service account, else ~/.kube/config. */
  kubeconfigPath?: string;
  /** An already loaded config (tests point it at the stand-in). */
  kubeConfig?: KubeConfig;
  /**
   * Deadline of every API call through the returned clients, from sending the request to the end
   * of the response body (default 15 000 ms). Watches are not affected.
   */
  requestTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

export function loadKubeConfig(options: KubeClientOptions = {}): KubeConfig {
  if (options.kubeConfig) return withKeepAliveAgents(options.kubeConfig);
  const kc = new KubeConfig();
  if (options.kubeconfigPath) kc.loadFromFile(options.kubeconfigPath);
  else kc.loadFromDefault(); // in-cluster when KUBERNETES_SERVICE_HOST is set
  return withKeepAliveAgents(kc);
}

/**
 * client-node's fetch library with a deadline per call. The timer runs until the response body
 * has been read (the generated clients always read it), so a server that sends headers and then
 * stalls is caught too. A signal the caller set on the request keeps working alongside.
 */
export function deadlineHttpLibrary(timeoutMs: number): HttpLibrary {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new RangeError(`requestTimeoutMs must be a positive number, not ${timeoutMs}`);
  const inner = new IsomorphicFetchHttpLibrary();
  return wrapHttpLibrary({
    async send(request: RequestContext): Promise<ResponseContext> {
      const controller = new AbortController();
      const own = request.getSignal();
      request.setSignal(own ? AbortSignal.any([own, controller.signal]) : controller.signal);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      timer.unref();
      const translate = (error: unknown): never => {
        clearTimeout(timer);
        if (timedOut)
          throw new KubeRequestTimeout(
            request.getHttpMethod().toString(),
            new URL(request.getUrl()).pathname,
            timeoutMs,
          );
        throw error;
      };
      let response: ResponseContext;
      try {
        response = await inner.send(request).toPromise();
      } catch (error) {
        return translate(error);
      }
      const body = response.body;
      const guarded =
        <T>(read: () => Promise<T>) =>
        async (): Promise<T> => {
          try {
            const value = await read();
            clearTimeout(timer);
            return value;
          } catch (error) {
            return translate(error);
          }
        };
      return new ResponseContext(response.httpStatusCode, response.headers, {
        text: guarded(() => body.text()),
        binary: guarded(() => body.binary()),
      });
    },
  });
}

/** What `KubeConfig.makeApiClient` builds, with the deadline library in place of the default. */
function configurationFor(kc: KubeConfig, timeoutMs: number): Configuration {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  return createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    httpApi: deadlineHttpLibrary(timeoutMs),
  });
}

/** `KubernetesObjectApi.makeApiClient` with a given configuration (the default namespace from the context). */
class ObjectApi extends KubernetesObjectApi {
  constructor(configuration: Configuration, kc: KubeConfig) {
    super(configuration);
    this.setDefaultNamespace(kc);
  }
}

export function createKubeClients(options: KubeClientOptions = {}): KubeClients {
  const kubeConfig = loadKubeConfig(options);
  const configuration = configurationFor(
    kubeConfig,
    options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  );
  return {
    kubeConfig,
    objects: new ObjectApi(configuration, kubeConfig),
    core: new CoreV1Api(configuration),
    coordination: new CoordinationV1Api(configuration),
  };
}
