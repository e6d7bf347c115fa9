import { z } from 'zod';
import { subjectOf } from './access.js';
import type { IdentityApiDeps } from './identity-deps.js';
import type { ApiRouter } from './router.js';

const permission = z.object({ resource: z.string(), action: z.string() });

/** Harbor's `permissions` tag: what a robot may be granted, for the robot dialogs. */
export function permissionsRoutes(api: ApiRouter, identity: IdentityApiDeps): void {
  api.add({
    operationId: 'getPermissions',
    tag: 'permissions',
    method: 'GET',
    path: '/permissions',
    summary: 'Get system or project level permissions info.',
    status: 200,
    response: z.object({ system: z.array(permission).optional(), project: z.array(permission) }),
    handler: async (_input, request) => identity.access.permissionCatalogue(subjectOf(request)),
  });
}
