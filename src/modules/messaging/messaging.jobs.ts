/**
 * `messages.send` (docs/messaging.md#the-sender): sends the messages that are due. A pump: in a process that works
 * jobs it runs every DELIVERY_POLL_MS; `patron jobs run messages.send` (or `{"tenant_id": …}`) runs it now. Safe in
 * several processes at once (claims with SKIP LOCKED and a lease).
 */
import { tenantIdOf, type TenantJobData } from '../../platform/jobs/each-tenant.js';
import type { Jobs } from '../../platform/jobs/jobs.js';
import type { MessageSender } from './messaging.sender.js';

export function defineMessagingJobs(jobs: Jobs, deps: { sender: MessageSender; pollMs: number }): void {
  jobs.define<TenantJobData>({
    name: 'messages.send',
    description: 'Send the messages that are due (consent, suppressions, quiet hours and the rate limit decided at send time); runs every DELIVERY_POLL_MS.',
    pollMs: deps.pollMs,
    // A pump retries by itself a moment later.
    retryLimit: 0,
    expireInSeconds: 900,
    handler: async (data) => {
      return deps.sender.sendDue(tenantIdOf('messages.send', data));
    },
  });
}
