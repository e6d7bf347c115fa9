import { useState, type FormEvent } from 'react';
import { useAction } from '../../api/hooks';
import { createRobot, robotKeys } from '../../api/robots';
import { Dialog, ErrorNote, Field } from '../../components/ui';
import { useProjectContext } from './project-page';

/** The project-level permissions a robot can be given, as Harbor's portal offers them. */
const GRID: [string, string[]][] = [
  ['repository', ['list', 'pull', 'push', 'delete']],
  ['artifact', ['read', 'list', 'delete']],
  ['tag', ['list', 'create', 'delete']],
  ['artifact-label', ['create', 'delete']],
  ['scan', ['create', 'stop', 'read']],
];

const NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export function CreateRobotDialog(props: {
  onClose: () => void;
  onCreated: (created: { name: string; secret: string }) => void;
}) {
  const { project } = useProjectContext();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [never, setNever] = useState(false);
  const [days, setDays] = useState('');
  const [granted, setGranted] = useState(new Set(['repository:pull', 'repository:push']));
  const nameError = name && !NAME.test(name) ? 'Lower-case letters, digits, and . _ - between them' : null;
  const daysError =
    !never && days !== '' && !/^[1-9]\d*$/.test(days) ? 'A whole number of days, at least 1' : null;
  const create = useAction(
    () =>
      createRobot({
        name,
        description,
        // 0: the system's robot token duration (Administration → Configuration).
        duration: never ? -1 : days === '' ? 0 : Number(days),
        level: 'project',
        disable: false,
        permissions: [
          {
            kind: 'project',
            namespace: project.name,
            access: [...granted].map((g) => {
              const [resource = '', action = ''] = g.split(':');
              return { resource, action };
            }),
          },
        ],
      }),
    [robotKeys.project(project.project_id)],
  );
  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      const created = await create.mutateAsync(undefined);
      props.onCreated({ name: created.name, secret: created.secret });
    } catch {
      // shown below
    }
  }
  const flip = (g: string) =>
    setGranted((s) => {
      const n = new Set(s);
      if (n.has(g)) n.delete(g);
      else n.add(g);
      return n;
    });
  return (
    <Dialog title="New Robot Account" onClose={props.onClose} wide>
      <form onSubmit={(e) => void submit(e)}>
        <Field label="Name" error={nameError} hint={`The account is named robot$${project.name}+NAME`}>
          {(id) => (
            <input
              id={id}
              name="robot_name"
              required
              autoFocus
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <Field label="Description">
          {(id) => <input id={id} value={description} onChange={(e) => setDescription(e.target.value)} />}
        </Field>
        <Field label="Expiration (days)" error={daysError}>
          {(id) => (
            <div className="row">
              <input
                id={id}
                name="duration"
                inputMode="numeric"
                placeholder="system default"
                disabled={never}
                value={days}
                onChange={(e) => setDays(e.target.value)}
              />
              <label className="check">
                <input type="checkbox" checked={never} onChange={(e) => setNever(e.target.checked)} /> Never
                expires
              </label>
            </div>
          )}
        </Field>
        <fieldset className="field">
          <legend>Permissions</legend>
          <div className="table-wrap">
            <table>
              <tbody>
                {GRID.map(([resource, actions]) => (
                  <tr key={resource}>
                    <th scope="row">{resource}</th>
                    <td className="row">
                      {actions.map((action) => (
                        <label key={action} className="check">
                          <input
                            type="checkbox"
                            aria-label={`${action} ${resource}`}
                            checked={granted.has(`${resource}:${action}`)}
                            onChange={() => flip(`${resource}:${action}`)}
                          />
                          {action}
                        </label>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </fieldset>
        <ErrorNote error={create.error} />
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button
            type="submit"
            className="btn btn-primary"
            disabled={create.isPending || !name || !!nameError || !!daysError || granted.size === 0}
          >
            Add
          </button>
        </div>
      </form>
    </Dialog>
  );
}
