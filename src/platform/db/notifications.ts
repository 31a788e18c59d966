/**
 * PostgreSQL LISTEN/NOTIFY for in-process caches: a change commits with `notify(tx, channel)`, and every Patron
 * process sharing the database hears it on one dedicated connection and drops what it cached. While that connection
 * is down, `listening` is false and callers must not trust their caches (a notification may have been missed);
 * it reconnects by itself and tells every handler to start afresh.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { Queryable } from './db.js';

/** Called with the payload, or with null when notifications may have been missed (start afresh). */
export type NotificationHandler = (payload: string | null) => void;

export class Notifications {
  private client: pg.Client | null = null;
  private readonly handlers = new Map<string, Set<NotificationHandler>>();
  private stopped = false;
  private retryMs = 500;
  listening = false;

  constructor(private readonly url: string, private readonly log: Logger) {}

  on(channel: string, handler: NotificationHandler): void {
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
  }

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'patron-listen' });
    client.on('notification', (m) => {
      for (const h of this.handlers.get(m.channel) ?? []) h(m.payload ?? '');
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    await client.connect();
    for (const channel of this.handlers.keys()) await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
    this.client = client;
    this.listening = true;
    this.retryMs = 500;
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
    this.listening = false;
    for (const set of this.handlers.values()) for (const h of set) h(null);
    if (this.stopped) return;
    this.log.warn('notifications: connection lost, caches off until it is back');
    const retry = () => {
      if (this.stopped) return;
      this.connect().then(
        () => this.log.info('notifications: listening again'),
        () => {
          this.retryMs = Math.min(this.retryMs * 2, 30_000);
          setTimeout(retry, this.retryMs).unref();
        },
      );
    };
    setTimeout(retry, this.retryMs).unref();
  }

  /** The PostgreSQL backend pid of the listening connection (null while down): to tell it apart in pg_stat_activity. */
  get backendPid(): number | null {
    // node-postgres keeps it from the server's BackendKeyData; @types/pg does not declare it.
    return (this.client as (pg.Client & { processID?: number | null }) | null)?.processID ?? null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.listening = false;
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}

/** Sends a notification when (and only if) the transaction commits. */
export async function notify(tx: Queryable, channel: string, payload = ''): Promise<void> {
  await tx.query('SELECT pg_notify($1, $2)', [channel, payload]);
}
