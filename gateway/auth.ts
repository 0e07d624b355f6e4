import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EnvError } from '../client';
import type { KeyLimits, KeyRing, Principal } from '../domain/api-keys';

/**
 * Who may call the gateway, and what each caller may see: one set of hooks on the root fastify
 * instance, so every route registered after `installAuth` inherits them.
 *
 * - every request needs `Authorization: Bearer <key>` unless its route says `config: {public: true}`;
 * - a route whose path takes an id must say what the id names (`config: {owns: 'env'}`); only the
 *   key that started it, or an admin key, gets past, and everyone else gets the same 404 as for an
 *   id that does not exist (no probing). The owner lookup also refuses ids of other workflow
 *   types, so forge, verify or grading workflows are never reachable by id. A route with an id and
 *   no `owns` is refused when it is registered.
 */

/** API keys, or (a developer's machine only) anyone on the loopback interface, as admin. */
export type GatewayAuth = { keys: KeyRing } | { insecureLocalhost: true; limits: KeyLimits };

/** How to find who owns an id of one kind, and the 404 for it. */
export interface OwnedResource {
  owner(id: string): Promise<string | undefined>;
  notFound(id: string): EnvError;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** no key needed (liveness, the OpenAPI document) */
    public?: boolean;
    /** what the route's `:id` names; only its owner or an admin reaches the handler */
    owns?: string;
    /** the route's `:task` names a catalog task, which every key may read (GET /v1/tasks lists them) */
    catalogTask?: boolean;
  }
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;
const OWNER_CACHE = 50_000;

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/** Throws the resource's 404 unless `principal` owns `id` (or is an admin). */
export type OwnerCheck = (kind: string, id: string, principal: Principal) => Promise<void>;

export function installAuth(
  app: FastifyInstance,
  { auth, resources }: { auth: GatewayAuth; resources: Record<string, OwnedResource> },
): OwnerCheck {
  // Owners never change: remember them (bounded), so a step costs no extra round trip.
  const owners = new Map<string, string | undefined>();

  app.decorateRequest('principal');
  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { public?: boolean; owns?: string; catalogTask?: boolean };
    const takesId = route.url.includes('/:');
    if (config.owns !== undefined && !resources[config.owns]) {
      throw new Error(`route ${route.url} owns "${config.owns}", which no resource of the gateway is`);
    }
    if (takesId && !config.public && !config.catalogTask && config.owns === undefined) {
      throw new Error(
        `route ${String(route.method)} ${route.url} takes an id but does not say what it names: ` +
          `give it config: {owns: ${Object.keys(resources).join(' | ')}} so that only its owner reaches it`,
      );
    }
  });

  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public) return;
    if ('insecureLocalhost' in auth) {
      if (!LOOPBACK.test(request.socket.remoteAddress ?? '')) {
        throw new EnvError('unauthorized', 'this gateway runs with --insecure-localhost and answers only local calls');
      }
      request.principal = { keyId: 'local', name: 'insecure-localhost', scope: 'admin', limits: auth.limits };
      return;
    }
    const token = bearer(request);
    if (!token) throw new EnvError('unauthorized', 'no API key: send Authorization: Bearer <key>');
    const principal = auth.keys.authenticate(token);
    if (!principal) throw new EnvError('unauthorized', 'the API key is unknown or revoked');
    request.principal = principal;
  });

  const checkOwner: OwnerCheck = async (kind, id, principal) => {
    const resource = resources[kind]!;
    const cacheKey = `${kind}:${id}`;
    let owner: string | undefined;
    if (owners.has(cacheKey)) owner = owners.get(cacheKey);
    else {
      owner = await resource.owner(id);
      if (owners.size >= OWNER_CACHE) owners.delete(owners.keys().next().value!);
      owners.set(cacheKey, owner);
    }
    if (principal.scope !== 'admin' && owner !== principal.keyId) throw resource.notFound(id);
  };

  app.addHook('preHandler', async (request) => {
    const kind = request.routeOptions.config.owns;
    if (kind === undefined) return;
    await checkOwner(kind, (request.params as { id?: string }).id ?? '', request.principal);
  });
  return checkOwner;
}

/** What the error handler adds for these errors: the Retry-After of a 429, the challenge of a 401. */
export function authHeaders(err: unknown): Record<string, string> {
  if (!(err instanceof EnvError)) return {};
  if (err.kind === 'too-many-requests' && err.retryAfterS) return { 'retry-after': String(err.retryAfterS) };
  if (err.kind === 'unauthorized') return { 'www-authenticate': 'Bearer realm="anvil"' };
  return {};
}
