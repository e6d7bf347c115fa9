import assert from 'node:assert/strict';
import { test } from 'node:test';
import { robotPermissions } from './permission-catalogue.js';
import { projectRobotGrantable } from './rbac.js';
import { systemRobotGrantable } from './system-grants.js';

const keys = (list: { resource: string; action: string }[]) =>
  new Set(list.map((p) => `${p.resource}:${p.action}`));

test('the project catalogue lists exactly what a project robot may be granted', () => {
  assert.deepEqual(keys(robotPermissions.project), new Set(projectRobotGrantable));
  assert.equal(keys(robotPermissions.project).size, robotPermissions.project.length, 'no pair twice');
});

test('the system catalogue lists each pair once, and system robots may be granted those', () => {
  assert.equal(keys(robotPermissions.system).size, robotPermissions.system.length, 'no pair twice');
  assert.ok(systemRobotGrantable.has('preheat-instance:create') && systemRobotGrantable.has('quota:update'));
});
