// The contract test's calls for the user and member tags (kept apart: contract.test.ts is long).

import type { HarborApi } from '../../helpers/harbor-api.js';
import type { Call, RunCalls } from './contract-gc-calls.js';

/** Every operation of the `user` tag; `{uid}` is the user the plan creates. */
export function userCalls(): Call[] {
  const users = '/users';
  return [
    {
      op: 'createUser',
      method: 'POST',
      path: users,
      body: {
        username: 'cu1',
        email: 'cu1@example.com',
        realname: 'C U',
        password: 'Passw0rd!x',
        comment: '',
      },
      status: 201,
    },
    {
      op: 'createUser',
      method: 'POST',
      path: users,
      body: { username: 'cu1', email: 'cu1b@example.com', realname: 'C U', password: 'Passw0rd!x' },
      status: 409,
    },
    { op: 'listUsers', method: 'GET', path: `${users}?page=1&page_size=10`, status: 200 },
    { op: 'searchUsers', method: 'GET', path: `${users}/search?username=cu`, status: 200 },
    { op: 'getUser', method: 'GET', path: `${users}/{uid}`, status: 200 },
    { op: 'getUser', method: 'GET', path: `${users}/999999`, status: 404 },
    {
      op: 'updateUserProfile',
      method: 'PUT',
      path: `${users}/{uid}`,
      body: { email: 'cu1c@example.com', realname: 'C U 2', comment: 'x' },
      status: 200,
    },
    {
      op: 'updateUserPassword',
      method: 'PUT',
      path: `${users}/{uid}/password`,
      body: { new_password: 'Passw0rd!y' },
      status: 200,
    },
    {
      op: 'setUserSysAdmin',
      method: 'PUT',
      path: `${users}/{uid}/sysadmin`,
      body: { sysadmin_flag: false },
      status: 200,
    },
    // Only users of an OIDC deployment have a CLI secret to set.
    {
      op: 'setCliSecret',
      method: 'PUT',
      path: `${users}/{uid}/cli_secret`,
      body: { secret: 'Passw0rd!z' },
      status: 412,
    },
    { op: 'getCurrentUserInfo', method: 'GET', path: `${users}/current`, status: 200 },
    { op: 'getCurrentUserPermissions', method: 'GET', path: `${users}/current/permissions`, status: 200 },
    { op: 'deleteUser', method: 'DELETE', path: `${users}/{uid}`, status: 200 },
    { op: 'deleteUser', method: 'DELETE', path: `${users}/{uid}`, status: 404 },
  ];
}

/** Every operation of the `member` tag in project `project`; `{mid}` is the member the plan adds. */
export function memberCalls(project: string): Call[] {
  const members = `/projects/${project}/members`;
  return [
    {
      op: 'createProjectMember',
      method: 'POST',
      path: members,
      body: { role_id: 2, member_user: { username: 'cm1' } },
      status: 201,
    },
    {
      op: 'createProjectMember',
      method: 'POST',
      path: members,
      body: { role_id: 2, member_user: { username: 'cm1' } },
      status: 409,
    },
    { op: 'listProjectMembers', method: 'GET', path: `${members}?entityname=cm`, status: 200 },
    { op: 'getProjectMember', method: 'GET', path: `${members}/{mid}`, status: 200 },
    { op: 'getProjectMember', method: 'GET', path: `${members}/999999`, status: 404 },
    { op: 'updateProjectMember', method: 'PUT', path: `${members}/{mid}`, body: { role_id: 3 }, status: 200 },
    { op: 'deleteProjectMember', method: 'DELETE', path: `${members}/{mid}`, status: 200 },
  ];
}

/** Runs the user and member plans: a project `cmem` and a user `cm1` to add to it are made first. */
export async function userMemberContract(
  api: HarborApi,
  run: RunCalls,
): Promise<{ failures: string[]; exercised: Set<string> }> {
  await api.expect(201, 'POST', '/projects', { project_name: 'cmem' });
  const user = { username: 'cm1', email: 'cm1@example.com', realname: 'M', password: 'Passw0rd!x' };
  await api.expect(201, 'POST', '/users', user);
  const ids = { uid: 0, mid: 0 };
  const exercised = new Set<string>();
  const fill = (call: Call) => ({
    ...call,
    path: call.path.replace('{uid}', String(ids.uid)).replace('{mid}', String(ids.mid)),
  });
  const failures = await run([...userCalls(), ...memberCalls('cmem')], exercised, fill, (call, res) => {
    if (res.status === 201)
      ids[call.op === 'createUser' ? 'uid' : 'mid'] = Number(res.headers.get('location')!.split('/').pop());
  });
  return { failures, exercised };
}
