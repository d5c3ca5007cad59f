/**
 * HTTP front of the stand-in: turns a request into the apiserver's request attributes
 * (group, version, namespace, resource, name, subresource, verb), runs faults,
 * authentication and authorisation, then the registry, and writes JSON or Status answers.
 */
import { randomUUID } from "node:crypto";
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { parse as parseYaml } from "yaml";
import type { Authorizer, KubeUser } from "./auth";
import {
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
  SERVER_VERSION,
} from "./discovery";
import type { ExecService } from "./exec";
import type { FaultInjector } from "./faults";
import { isRecord, type StoredObject } from "./objects";
import { patchTypeOf } from "./patch";
import type { DeleteOptions, ListOptions, ListResult, Registry, WriteOptions } from "./registry";
import { type ResourceType, type Verb } from "./resources";
import {
  badRequest,
  expired,
  methodNotAllowed,
  pathNotFound,
  requestEntityTooLarge,
  StatusError,
  internalError,
  unsupportedMediaType,
  type Status,
} from "./status";
import type { WatchHub } from "./watch";

const MAX_BODY_BYTES = 3 * 1024 * 1024;
// Namespace subresources; anything else after /namespaces/{ns}/ is a namespaced resource.
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

export interface RouterDeps {
  registry: Registry;
  watches: WatchHub;
  exec: ExecService;
  auth: Authorizer;
  faults: FaultInjector;
  /** host:port for `/api`'s serverAddressByClientCIDRs. */
  serverAddress(): string;
}

/** A request for a resource, as the apiserver's RequestInfoFactory splits the path. */
interface ResourceRequest {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
}

type Route =
  | { type: "health" }
  | { type: "version" }
  | { type: "discovery"; document: () => Record<string, unknown> | undefined }
  | { type: "resource"; request: ResourceRequest }
  | { type: "unknown" };

export class KubeRouter {
  constructor(private readonly deps: RouterDeps) {}

  async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? "/", "http://standin");
      const route = this.route(url.pathname);
      if (route.type === "health") return sendText(res, 200, "ok");
      if (route.type === "version") return sendJson(res, 200, SERVER_VERSION);

      const injected = await this.deps.faults.gate({
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        upgrade: false,
      });
      if (injected !== undefined) throw injected;
      const user = this.deps.auth.authenticate(req.headers.authorization);

      if (route.type === "unknown") throw pathNotFound();
      if (route.type === "discovery") {
        if (req.method !== "GET") throw methodNotAllowed();
        const document = route.document();
        if (document === undefined) throw pathNotFound();
        return sendJson(res, 200, document);
      }
      await this.serveResource(req, res, url, route.request, user);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendStatus(res, toStatus(err));
    }
  }

  /** WebSocket upgrades: only `pods/exec` is served this way. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    try {
      const url = new URL(req.url ?? "/", "http://standin");
      const route = this.route(url.pathname);
      const injected = await this.deps.faults.gate({
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        upgrade: true,
      });
      if (injected !== undefined) throw injected;
      const user = this.deps.auth.authenticate(req.headers.authorization);
      if (route.type !== "resource") throw pathNotFound();
      const { request } = route;
      const rt = this.resourceType(request);
      if (
        rt.resource !== "pods" ||
        rt.group !== "" ||
        request.subresource !== "exec" ||
        request.name === undefined ||
        request.namespace === undefined
      ) {
        throw badRequest("websocket upgrades are only served for pods/exec");
      }
      // Since Kubernetes 1.30 a WebSocket exec needs `create` on pods/exec, like SPDY.
      this.deps.auth.authorize(user, {
        verb: "create",
        apiGroup: "",
        resource: "pods",
        subresource: "exec",
        namespace: request.namespace,
        name: request.name,
      });
      const offered = String(req.headers["sec-websocket-protocol"] ?? "")
        .split(",")
        .map((p) => p.trim())
        .filter((p) => p !== "");
      const { container, options } = this.deps.exec.prepare(
        request.namespace,
        request.name,
        url.searchParams,
        offered,
      );
      this.deps.exec.upgrade(
        req,
        socket,
        head,
        request.namespace,
        request.name,
        container,
        options,
      );
    } catch (err) {
      const status = toStatus(err);
      const body = JSON.stringify(status);
      if (!socket.destroyed) {
        socket.end(
          `HTTP/1.1 ${status.code} ${STATUS_CODES[status.code] ?? "Error"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
    }
  }

  // -------------------------------------------------------------------------------------
  // Routing
  // -------------------------------------------------------------------------------------

  private route(pathname: string): Route {
    const parts = pathname
      .split("/")
      .filter((p) => p !== "")
      .map((p) => {
        try {
          return decodeURIComponent(p);
        } catch {
          throw badRequest(`malformed path segment: ${p}`);
        }
      });
    const types = this.deps.registry.resourceTypes;
    const [root, first, second] = parts;
    if (parts.length === 1 && (root === "healthz" || root === "livez" || root === "readyz"))
      return { type: "health" };
    if (parts.length === 1 && root === "version") return { type: "version" };
    if (root === "api") {
      if (parts.length === 1)
        return { type: "discovery", document: () => apiVersions(this.deps.serverAddress()) };
      if (parts.length === 2)
        return { type: "discovery", document: () => apiResourceList(types, "", first ?? "") };
      const request = resourceRequest("", first ?? "", parts.slice(2));
      return request === undefined ? { type: "unknown" } : { type: "resource", request };
    }
    if (root === "apis") {
      if (parts.length === 1) return { type: "discovery", document: () => apiGroupList(types) };
      if (parts.length === 2)
        return { type: "discovery", document: () => apiGroupDocument(types, first ?? "") };
      if (parts.length === 3)
        return {
          type: "discovery",
          document: () => apiResourceList(types, first ?? "", second ?? ""),
        };
      const request = resourceRequest(first ?? "", second ?? "", parts.slice(3));
      return request === undefined ? { type: "unknown" } : { type: "resource", request };
    }
    return { type: "unknown" };
  }

  private resourceType(request: ResourceRequest): ResourceType {
    const rt = this.deps.registry.lookup(request.group, request.version, request.resource);
    if (rt === undefined) throw pathNotFound();
    if (request.namespace !== undefined && !rt.namespaced) throw pathNotFound();
    if (request.subresource !== undefined && !rt.subresources.includes(request.subresource))
      throw pathNotFound();
    return rt;
  }

  // -------------------------------------------------------------------------------------
  // Resources
  // -------------------------------------------------------------------------------------

  private async serveResource(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    request: ResourceRequest,
    user: KubeUser,
  ): Promise<void> {
    const rt = this.resourceType(request);
    const { registry } = this.deps;
    const query = url.searchParams;
    const namespace = rt.namespaced ? request.namespace : undefined;
    const name = request.name;
    const watch = isTrue(query.get("watch"));
    const verb = verbOf(req.method ?? "GET", name !== undefined, watch);
    if (verb === undefined) throw methodNotAllowed();
    if (request.subresource === "exec") {
      // SPDY (or a plain request) instead of a WebSocket upgrade.
      throw badRequest("Upgrade request required");
    }
    if (request.subresource === "status" && !["get", "update", "patch"].includes(verb))
      throw methodNotAllowed();
    if (!rt.verbs.includes(verb)) throw methodNotAllowed();
    // Namespaced resources are created, named and collection-deleted under /namespaces/{ns}/ only.
    if (rt.namespaced && namespace === undefined && verb !== "list" && verb !== "watch")
      throw pathNotFound();

    this.deps.auth.authorize(user, {
      verb,
      apiGroup: rt.group,
      resource: rt.resource,
      subresource: request.subresource,
      namespace,
      name,
    });

    const writeOptions = (): WriteOptions => {
      const dryRun = query.getAll("dryRun");
      if (dryRun.some((v) => v !== "All"))
        throw badRequest(`Invalid dryRun value: ${dryRun.join(",")}`);
      const fieldValidation = query.get("fieldValidation") ?? "Warn";
      if (
        fieldValidation !== "Strict" &&
        fieldValidation !== "Warn" &&
        fieldValidation !== "Ignore"
      ) {
        throw badRequest(
          `fieldValidation must be one of Strict, Warn, Ignore; got "${fieldValidation}"`,
        );
      }
      return { dryRun: dryRun.length > 0, fieldValidation, warnings: [] };
    };
    const subresource = request.subresource === "status" ? "status" : undefined;

    switch (verb) {
      case "get":
        return sendJson(res, 200, registry.get(rt, namespace, name ?? ""));
      case "list":
        return sendJson(
          res,
          200,
          listDocument(rt, registry.list(rt, namespace, listOptions(query))),
        );
      case "watch": {
        let fieldSelector = query.get("fieldSelector") ?? undefined;
        if (name !== undefined)
          fieldSelector = [fieldSelector, `metadata.name=${name}`]
            .filter((s) => s !== undefined && s !== "")
            .join(",");
        if (this.deps.faults.takeWatchExpiry()) {
          const rv = query.get("resourceVersion") ?? "0";
          this.deps.watches.serveError(
            res,
            expired(`too old resource version: ${rv} (${registry.store.currentRevision})`).status,
          );
          return;
        }
        const params: Parameters<WatchHub["serve"]>[0] = {
          rt,
          allowWatchBookmarks: isTrue(query.get("allowWatchBookmarks")),
          sendInitialEvents: isTrue(query.get("sendInitialEvents")),
        };
        if (namespace !== undefined) params.namespace = namespace;
        const labelSelector = query.get("labelSelector");
        if (labelSelector !== null) params.labelSelector = labelSelector;
        if (fieldSelector !== undefined) params.fieldSelector = fieldSelector;
        const rv = query.get("resourceVersion");
        if (rv !== null) params.resourceVersion = rv;
        const timeoutSeconds = query.get("timeoutSeconds");
        if (timeoutSeconds !== null)
          params.timeoutSeconds = nonNegativeInt(timeoutSeconds, "timeoutSeconds");
        this.deps.watches.serve(params, res);
        return;
      }
      case "create": {
        const options = writeOptions();
        const created = registry.create(rt, namespace, await readObjectBody(req), options);
        return sendJson(res, 201, created, options.warnings);
      }
      case "update": {
        const options = writeOptions();
        const updated = registry.update(
          rt,
          namespace,
          name ?? "",
          await readObjectBody(req),
          subresource,
          options,
        );
        return sendJson(res, 200, updated, options.warnings);
      }
      case "patch": {
        const options = writeOptions();
        const type = patchTypeOf(req.headers["content-type"], rt.custom);
        const patch = parseJson(await readBody(req));
        const patched = registry.patch(
          rt,
          namespace,
          name ?? "",
          type,
          patch,
          subresource,
          options,
        );
        return sendJson(res, 200, patched, options.warnings);
      }
      case "delete": {
        const options = writeOptions();
        const result = registry.delete(
          rt,
          namespace,
          name ?? "",
          await deleteOptions(req, query),
          options,
        );
        return sendJson(res, 200, result.object ?? result.status);
      }
      case "deletecollection": {
        const options = writeOptions();
        const deleted = registry.deleteCollection(
          rt,
          namespace,
          listOptions(query),
          await deleteOptions(req, query),
          options,
        );
        return sendJson(
          res,
          200,
          listDocument(rt, {
            items: deleted,
            resourceVersion: String(registry.store.currentRevision),
          }),
        );
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Request parsing
// ---------------------------------------------------------------------------------------

function resourceRequest(
  group: string,
  version: string,
  rest: string[],
): ResourceRequest | undefined {
  let parts = rest;
  let namespace: string | undefined;
  if (parts[0] === "namespaces" && parts.length > 1) {
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2] ?? "")) {
      namespace = parts[1];
      parts = parts.slice(2);
    }
  }
  if (parts.length === 0 || parts.length > 3) return undefined;
  const request: ResourceRequest = { group, version, resource: parts[0] ?? "" };
  if (namespace !== undefined) request.namespace = namespace;
  if (parts[1] !== undefined) request.name = parts[1];
  if (parts[2] !== undefined) request.subresource = parts[2];
  return request;
}

function verbOf(method: string, named: boolean, watch: boolean): Verb | undefined {
  switch (method) {
    case "GET":
      return watch ? "watch" : named ? "get" : "list";
    case "POST":
      return named ? undefined : "create";
    case "PUT":
      return named ? "update" : undefined;
    case "PATCH":
      return named ? "patch" : undefined;
    case "DELETE":
      return named ? "delete" : "deletecollection";
    default:
      return undefined;
  }
}

function isTrue(value: string | null): boolean {
  return value === "1" || value === "true";
}

function nonNegativeInt(value: string, name: string): number {
  if (!/^\d+$/.test(value)) throw badRequest(`${name}: invalid value "${value}"`);
  return Number(value);
}

function listOptions(query: URLSearchParams): ListOptions {
  const options: ListOptions = {};
  const labelSelector = query.get("labelSelector");
  const fieldSelector = query.get("fieldSelector");
  const limit = query.get("limit");
  const cont = query.get("continue");
  const rv = query.get("resourceVersion");
  const rvMatch = query.get("resourceVersionMatch");
  if (labelSelector !== null) options.labelSelector = labelSelector;
  if (fieldSelector !== null) options.fieldSelector = fieldSelector;
  if (limit !== null) options.limit = nonNegativeInt(limit, "limit");
  if (cont !== null) options.continue = cont;
  if (rv !== null) options.resourceVersion = rv;
  if (rvMatch !== null) {
    if (rvMatch !== "Exact" && rvMatch !== "NotOlderThan")
      throw badRequest(`resourceVersionMatch: Unsupported value: "${rvMatch}"`);
    options.resourceVersionMatch = rvMatch;
  }
  return options;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw requestEntityTooLarge(MAX_BODY_BYTES);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(
      `error decoding request body: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

async function readObjectBody(req: IncomingMessage): Promise<unknown> {
  const mediaType = (req.headers["content-type"] ?? "application/json")
    .split(";")[0]
    ?.trim()
    .toLowerCase();
  const text = await readBody(req);
  if (mediaType === "application/json" || mediaType === "" || mediaType === "*/*")
    return parseJson(text);
  if (mediaType === "application/yaml") {
    try {
      return parseYaml(text) as unknown;
    } catch (err) {
      throw badRequest(`error decoding YAML: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw unsupportedMediaType([
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
  ]);
}

async function deleteOptions(req: IncomingMessage, query: URLSearchParams): Promise<DeleteOptions> {
  const text = await readBody(req);
  const body = text.trim() === "" ? {} : parseJson(text);
  const options: DeleteOptions = {};
  if (isRecord(body)) {
    if (isRecord(body.preconditions)) {
      const pre: NonNullable<DeleteOptions["preconditions"]> = {};
      if (typeof body.preconditions.uid === "string") pre.uid = body.preconditions.uid;
      if (typeof body.preconditions.resourceVersion === "string")
        pre.resourceVersion = body.preconditions.resourceVersion;
      options.preconditions = pre;
    }
    if (typeof body.propagationPolicy === "string")
      options.propagationPolicy = propagation(body.propagationPolicy);
    if (typeof body.gracePeriodSeconds === "number")
      options.gracePeriodSeconds = body.gracePeriodSeconds;
  }
  const policy = query.get("propagationPolicy");
  if (policy !== null) options.propagationPolicy = propagation(policy);
  const grace = query.get("gracePeriodSeconds");
  if (grace !== null) options.gracePeriodSeconds = nonNegativeInt(grace, "gracePeriodSeconds");
  return options;
}

function propagation(value: string): NonNullable<DeleteOptions["propagationPolicy"]> {
  if (value === "Orphan" || value === "Background" || value === "Foreground") return value;
  throw badRequest(
    `propagationPolicy: Unsupported value: "${value}": supported values: "Foreground", "Background", "Orphan"`,
  );
}

// ---------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------

function listDocument(rt: ResourceType, result: ListResult): Record<string, unknown> {
  const metadata: Record<string, unknown> = { resourceVersion: result.resourceVersion };
  if (result.continue !== undefined) metadata.continue = result.continue;
  if (result.remainingItemCount !== undefined)
    metadata.remainingItemCount = result.remainingItemCount;
  // Items of typed (built-in) lists carry no kind/apiVersion; unstructured ones do.
  const items = rt.custom
    ? result.items
    : result.items.map((item: StoredObject) => withoutTypeMeta(item));
  return { apiVersion: rt.apiVersion, kind: rt.listKind, metadata, items };
}

function withoutTypeMeta(obj: StoredObject): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...obj };
  delete copy.apiVersion;
  delete copy.kind;
  return copy;
}

function toStatus(err: unknown): Status {
  if (err instanceof StatusError) return err.status;
  return internalError(err instanceof Error ? err.message : String(err)).status;
}

function baseHeaders(contentType: string): Record<string, string> {
  return {
    "Content-Type": contentType,
    "Cache-Control": "no-cache, private",
    "Audit-Id": randomUUID(),
  };
}

function sendJson(res: ServerResponse, code: number, body: unknown, warnings: string[] = []): void {
  const headers: Record<string, string | string[]> = baseHeaders("application/json");
  if (warnings.length > 0) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(JSON.stringify(body));
}

function sendStatus(res: ServerResponse, status: Status): void {
  const headers: Record<string, string> = baseHeaders("application/json");
  const retryAfter = status.details?.retryAfterSeconds;
  if (retryAfter !== undefined) headers["Retry-After"] = String(retryAfter);
  res.writeHead(status.code, headers);
  res.end(JSON.stringify(status));
}

function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, baseHeaders("text/plain; charset=utf-8"));
  res.end(text);
}
