import type { Access, BearerTokens, TokenPrincipal } from '../../auth/bearer-token.js';
import type { MetaStore } from '../../db/store.js';
import type { AccessControl } from './access-control.js';
import type { Subject } from './subject.js';

const repositoryActions = ['pull', 'push', 'delete'] as const;
const maxScopes = 100;

/**
 * The Docker token service's rules: parse the requested scopes, keep for each the actions the subject
 * holds (the intersection of asked and allowed), and sign them into a JWT. A project that does not exist
 * grants nothing, so it looks like one the subject may not see.
 */
export class TokenService {
  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'projects'>;
      access: AccessControl;
      tokens: BearerTokens;
    },
  ) {}

  async grant(subject: Subject, scopes: readonly string[]): Promise<Access[]> {
    const out: Access[] = [];
    for (const scope of parseScopes(scopes)) {
      if (scope.type === 'registry' && scope.name === 'catalog') {
        // Everyone may list the catalog; the listing shows only what the subject may see.
        out.push({ type: 'registry', name: 'catalog', actions: ['*'] });
        continue;
      }
      if (scope.type !== 'repository') continue;
      const wanted = scope.actions.includes('*') ? [...repositoryActions] : scope.actions;
      const project = await this.deps.store.projects.findByName(scope.name.split('/', 1)[0]!);
      const actions: string[] = [];
      if (project) {
        const target = {
          scope: 'project' as const,
          project: { id: project.id, name: project.name, public: project.public === 1 },
          resource: 'repository',
        };
        for (const action of repositoryActions)
          if (wanted.includes(action) && (await this.deps.access.can(subject, action, target)))
            actions.push(action);
      }
      out.push({ type: 'repository', name: scope.name, actions });
    }
    return out;
  }

  async issue(subject: Subject, scopes: readonly string[]) {
    const access = await this.grant(subject, scopes);
    return this.deps.tokens.issue(principalOf(subject), access);
  }
}

export function principalOf(subject: Subject): TokenPrincipal {
  if (subject.kind === 'user') return { kind: 'user', id: subject.userId, name: subject.username };
  if (subject.kind === 'robot') return { kind: 'robot', id: subject.robotId, name: subject.name };
  return { kind: 'anonymous', id: 0, name: '' };
}

/**
 * `type:name:actions`, several per parameter separated by spaces; the name may itself contain `:` (a
 * registry host with a port), so the type is before the first colon and the actions after the last.
 */
export function parseScopes(raw: readonly string[]): { type: string; name: string; actions: string[] }[] {
  const out: { type: string; name: string; actions: string[] }[] = [];
  for (const param of raw)
    for (const scope of param.split(' ')) {
      if (out.length >= maxScopes) return out;
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      if (first <= 0 || last <= first) continue;
      const name = scope.slice(first + 1, last);
      if (name === '' || name.length > 255) continue;
      const actions = scope
        .slice(last + 1)
        .split(',')
        .filter((a) => a !== '');
      out.push({ type: scope.slice(0, first), name, actions });
    }
  return out;
}
