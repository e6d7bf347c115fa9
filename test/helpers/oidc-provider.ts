import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';

export interface OidcUserSpec {
  username: string;
  password: string;
  email?: string;
  name?: string;
  groups?: string[];
  /** The `sub` claim (default: a random id, so it differs from the username as at real IdPs). */
  sub?: string;
}

export interface OidcProviderOptions {
  users: OidcUserSpec[];
  clientId?: string;
  clientSecret?: string;
  /** Redirect URIs of the client; more can be allowed later with allowRedirectUri(). */
  redirectUris?: string[];
  /**
   * When false, the ID token carries the scope claims (email, groups, …) itself; when true (the
   * provider's default, per OIDC Core), code-flow ID tokens carry only `sub` and the relying party must
   * read the rest from the userinfo endpoint. Default false.
   */
  claimsOnlyFromUserinfo?: boolean;
  /** Serve https with this certificate (PEM text) instead of plain http. */
  tls?: { cert: string; key: string };
}

export interface RunningOidcProvider {
  /** Issuer URL, e.g. http://127.0.0.1:41234 */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Adds a redirect URI to the client (rebuilds the provider: call before any login). */
  allowRedirectUri(uri: string): void;
  /** The `sub` of a user by username. */
  subOf(username: string): string;
  /** Login attempts the interaction handler saw: username and whether the password matched. */
  logins: { username: string; ok: boolean }[];
  stop(): Promise<void>;
}

/**
 * A real OpenID provider (the `oidc-provider` package) on 127.0.0.1 and a free port: one confidential
 * client, users with passwords and a `groups` claim (scope `groups`), and small HTML interaction pages
 * (a login form that checks the password, then a consent form), so a test can script the
 * authorization-code flow with plain HTTP (see browserlessLogin in oidc-login.ts).
 */
export async function startOidcProvider(options: OidcProviderOptions): Promise<RunningOidcProvider> {
  const clientId = options.clientId ?? 'berth';
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('hex');
  const redirectUris = [...(options.redirectUris ?? [])];
  const users = options.users.map((u) => ({ ...u, sub: u.sub ?? `sub-${randomBytes(6).toString('hex')}` }));
  const bySub = new Map(users.map((u) => [u.sub, u]));
  const logins: { username: string; ok: boolean }[] = [];
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };
  const cookieKeys = [randomBytes(32).toString('hex')];

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: Error) => {
      res.statusCode = 500;
      res.end(`interaction failed: ${err.message}`);
    });
  };
  const server = options.tls ? createTlsServer(options.tls, listener) : createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const scheme = options.tls ? 'https' : 'http';
  const issuer = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const build = () => {
    const configuration: Configuration = {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: redirectUris.length ? redirectUris : [`${issuer}/unused-callback`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      jwks: { keys: [jwk as never] },
      cookies: { keys: cookieKeys },
      claims: {
        openid: ['sub'],
        email: ['email', 'email_verified'],
        profile: ['name', 'preferred_username'],
        groups: ['groups'],
      },
      scopes: ['openid', 'email', 'profile', 'groups'],
      conformIdTokenClaims: options.claimsOnlyFromUserinfo ?? false,
      features: { devInteractions: { enabled: false } },
      ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      findAccount: (_ctx, sub) => {
        const user = bySub.get(sub);
        if (!user) return undefined;
        return {
          accountId: sub,
          claims: () => ({
            sub,
            preferred_username: user.username,
            name: user.name ?? user.username,
            email: user.email,
            email_verified: Boolean(user.email),
            groups: user.groups ?? [],
          }),
        };
      },
    };
    const p = new Provider(issuer, configuration);
    // Plain HTTP on loopback: the provider must not insist on TLS for its cookies.
    p.proxy = false;
    return p;
  };
  let provider = build();

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', issuer);
    const m = /^\/interaction\/([^/]+)(\/login|\/confirm)?$/.exec(url.pathname);
    if (!m) return provider.callback()(req, res);
    const details = await provider.interactionDetails(req, res);
    const uid = m[1]!;
    if (req.method === 'GET') {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      if (details.prompt.name === 'login') {
        res.end(
          `<!doctype html><title>Sign in</title><form method="post" action="/interaction/${uid}/login">` +
            `<input name="login"><input name="password" type="password"><button>Sign in</button></form>`,
        );
      } else {
        res.end(
          `<!doctype html><title>Consent</title><form method="post" action="/interaction/${uid}/confirm">` +
            `<button>Allow</button></form>`,
        );
      }
      return;
    }
    if (m[2] === '/login') {
      const form = new URLSearchParams(await readBody(req));
      const user = users.find((u) => u.username === form.get('login'));
      const ok = Boolean(user && user.password === form.get('password'));
      logins.push({ username: form.get('login') ?? '', ok });
      if (!ok || !user) {
        res.statusCode = 401;
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.end('<!doctype html><title>Sign in</title><p>Invalid username or password</p>');
        return;
      }
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: user.sub } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    // consent: grant what the relying party asked for.
    const accountId = details.session?.accountId;
    const params = details.params as { client_id: string };
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: params.client_id });
    if (!grant) throw new Error('grant not found');
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: details.grantId ? {} : { grantId } });
  }

  return {
    issuer,
    clientId,
    clientSecret,
    allowRedirectUri(uri) {
      if (redirectUris.includes(uri)) return;
      redirectUris.push(uri);
      provider = build();
    },
    subOf(username) {
      const u = users.find((x) => x.username === username);
      if (!u) throw new Error(`no such OIDC test user ${username}`);
      return u.sub;
    },
    logins,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
