import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useAction } from '../../api/hooks';
import {
  saveWebhookPolicy,
  testWebhookPolicy,
  webhookEventsQuery,
  webhookFieldsOf,
  webhookKeys,
  type WebhookPolicy,
  type WebhookPolicyFields,
} from '../../api/webhooks';
import { Dialog, ErrorNote, Field, QueryState } from '../../components/ui';

/** Add or edit a webhook policy: name, event types, notify type, payload format and one endpoint. */
export function WebhookPolicyDialog(props: {
  projectId: number;
  policy: WebhookPolicy | null;
  onClose: () => void;
}) {
  const events = useQuery(webhookEventsQuery(props.projectId));
  return (
    <Dialog title={props.policy ? 'Edit Webhook' : 'Add Webhook'} onClose={props.onClose} wide>
      <QueryState query={events}>{(choices) => <PolicyForm {...props} choices={choices} />}</QueryState>
    </Dialog>
  );
}

function PolicyForm(props: {
  projectId: number;
  policy: WebhookPolicy | null;
  onClose: () => void;
  choices: { event_type: string[]; notify_type: string[]; payload_formats: { formats: string[] }[] };
}) {
  const { projectId, policy, choices } = props;
  const [fields, setFields] = useState<WebhookPolicyFields>(() =>
    webhookFieldsOf(policy, choices.event_type),
  );
  const [tested, setTested] = useState(false);
  const set = (change: Partial<WebhookPolicyFields>) => {
    setTested(false);
    setFields((f) => ({ ...f, ...change }));
  };
  const save = useAction(
    () => saveWebhookPolicy(projectId, fields, policy?.id),
    [webhookKeys.all(projectId)],
  );
  const test = useAction(() => testWebhookPolicy(projectId, fields), []);
  const formats = choices.payload_formats[0]?.formats ?? ['Default'];
  const http = fields.notifyType === 'http';
  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      await save.mutateAsync(undefined);
      props.onClose();
    } catch {
      // shown below
    }
  }
  function toggleEvent(type: string, on: boolean) {
    set({
      event_types: on
        ? choices.event_type.filter((t) => t === type || fields.event_types.includes(t))
        : fields.event_types.filter((t) => t !== type),
    });
  }
  return (
    <form onSubmit={(e) => void submit(e)}>
      <Field label="Name">
        {(id) => (
          <input
            id={id}
            name="name"
            required
            value={fields.name}
            onChange={(e) => set({ name: e.target.value })}
          />
        )}
      </Field>
      <Field label="Description">
        {(id) => (
          <textarea
            id={id}
            name="description"
            value={fields.description}
            onChange={(e) => set({ description: e.target.value })}
          />
        )}
      </Field>
      <fieldset>
        <legend>Event Type</legend>
        <div>
          {choices.event_type.map((t) => (
            <label key={t} className="check">
              <input
                type="checkbox"
                checked={fields.event_types.includes(t)}
                onChange={(e) => toggleEvent(t, e.target.checked)}
              />{' '}
              {t}
            </label>
          ))}
        </div>
      </fieldset>
      <Field label="Notify Type">
        {(id) => (
          <select id={id} value={fields.notifyType} onChange={(e) => set({ notifyType: e.target.value })}>
            {choices.notify_type.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        )}
      </Field>
      {http ? (
        <Field label="Payload Format">
          {(id) => (
            <select
              id={id}
              value={fields.payloadFormat}
              onChange={(e) => set({ payloadFormat: e.target.value })}
            >
              {formats.map((f) => (
                <option key={f} value={f}>
                  {f}
                </option>
              ))}
            </select>
          )}
        </Field>
      ) : null}
      <Field
        label="Endpoint URL"
        hint={http ? 'http(s)://… receiving a POST per event' : 'Slack incoming webhook URL'}
      >
        {(id) => (
          <input
            id={id}
            name="address"
            type="url"
            required
            value={fields.address}
            onChange={(e) => set({ address: e.target.value })}
          />
        )}
      </Field>
      {http ? (
        <Field label="Auth Header" hint="Sent as the Authorization header of every delivery.">
          {(id) => (
            <input
              id={id}
              name="auth_header"
              value={fields.authHeader}
              onChange={(e) => set({ authHeader: e.target.value })}
            />
          )}
        </Field>
      ) : null}
      <label className="check">
        <input
          type="checkbox"
          checked={!fields.skipCertVerify}
          onChange={(e) => set({ skipCertVerify: !e.target.checked })}
        />{' '}
        Verify Remote Certificate
      </label>
      <ErrorNote error={test.error} title="The test event was not delivered" />
      {tested && !test.error ? <p role="status">Test event delivered.</p> : null}
      <ErrorNote error={save.error} />
      <div className="dialog-actions">
        <button
          type="button"
          className="btn"
          disabled={test.isPending || !fields.address.trim()}
          onClick={() => {
            setTested(false);
            test.mutate(undefined, { onSuccess: () => setTested(true) });
          }}
        >
          Test Endpoint
        </button>
        <button type="button" className="btn" onClick={props.onClose}>
          Cancel
        </button>
        <button
          type="submit"
          className="btn btn-primary"
          disabled={
            save.isPending || !fields.name.trim() || !fields.address.trim() || fields.event_types.length === 0
          }
        >
          {policy ? 'Save' : 'Add'}
        </button>
      </div>
    </form>
  );
}
