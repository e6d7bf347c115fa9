/**
 * Typed domain events. Emitted after the change has committed; subscribers (audit, webhooks,
 * replication, scan-on-push) must not assume they run in the request's transaction.
 */
export interface DomainEvents {
  ArtifactPushed: { repository: string; digest: string; tag: string | null; mediaType: string };
  ArtifactPulled: { repository: string; digest: string; tag: string | null };
  ArtifactDeleted: { repository: string; digest: string };
  TagDeleted: { repository: string; tag: string };
  RepositoryDeleted: { repository: string };
  BlobUploaded: { repository: string; digest: string; size: number };
}

export type EventName = keyof DomainEvents;
type Handler<K extends EventName> = (event: DomainEvents[K]) => void | Promise<void>;

export class EventBus {
  private readonly handlers = new Map<EventName, Handler<EventName>[]>();

  constructor(private readonly onError: (name: EventName, err: unknown) => void) {}

  on<K extends EventName>(name: K, handler: Handler<K>): void {
    const list = this.handlers.get(name) ?? [];
    list.push(handler as Handler<EventName>);
    this.handlers.set(name, list);
  }

  emit<K extends EventName>(name: K, event: DomainEvents[K]): void {
    for (const handler of this.handlers.get(name) ?? []) {
      try {
        void Promise.resolve(handler(event)).catch((err: unknown) => this.onError(name, err));
      } catch (err) {
        this.onError(name, err);
      }
    }
  }
}
