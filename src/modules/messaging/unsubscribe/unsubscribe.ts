/**
 * What an unsubscribe link does (docs/messaging.md#unsubscribe): find the member and channel a signed token names,
 * and withdraw that consent through the members service (source `unsubscribe_link`). Idempotent: a second click
 * changes nothing. A token that is not one, names an unknown tenant or member, or is not signed with the tenant's
 * secret, is "not found" (no hint which).
 */
import type { Db } from '../../../platform/db/db.js';
import type { MembersService } from '../../members/members.service.js';
import type { TenantsService } from '../../tenants/tenants.service.js';
import type { MessagingSettingsService } from '../messaging.settings.js';
import type { Locale, MessageChannel } from '../messaging.types.js';
import { readUnsubscribeToken, verifyUnsubscribeSignature } from './unsubscribe.token.js';

export interface UnsubscribeTarget {
  tenantId: string;
  memberId: string;
  channel: MessageChannel;
  locale: Locale;
  program: string;
  /** Whether the member still has this consent. */
  granted: boolean;
  erased: boolean;
}

export const UNSUBSCRIBE_SOURCE = 'unsubscribe_link';

export class UnsubscribeLinks {
  constructor(private readonly deps: { db: Db; members: MembersService; tenants: TenantsService; settings: MessagingSettingsService }) {}

  /** The member and channel of a valid token; null for anything else. */
  async open(token: string): Promise<UnsubscribeTarget | null> {
    const { db, members, tenants, settings } = this.deps;
    const claims = readUnsubscribeToken(token);
    if (!claims) return null;
    const secret = await settings.unsubscribeSecret(db, claims.tenantId);
    if (!secret || !verifyUnsubscribeSignature(secret, claims.payload, claims.signature)) return null;
    const member = await members.find(db, claims.tenantId, { id: claims.memberId });
    const tenant = await tenants.getTenant(db, claims.tenantId);
    if (!member || !tenant) return null;
    const view = await members.get(db, claims.tenantId, member.id);
    return {
      tenantId: claims.tenantId, memberId: member.id, channel: claims.channel, locale: member.locale as Locale, program: tenant.name,
      granted: view.consent[claims.channel].granted, erased: member.status === 'erased',
    };
  }

  /** Withdraws the consent the token names; null for an invalid token. */
  async unsubscribe(token: string): Promise<UnsubscribeTarget | null> {
    const target = await this.open(token);
    if (!target) return null;
    // An erased member has no consent left to withdraw (and cannot be changed).
    if (target.granted && !target.erased) {
      await this.deps.db.tx((tx) => this.deps.members.changeConsent(tx, target.tenantId, target.memberId, { channel: target.channel, granted: false, source: UNSUBSCRIBE_SOURCE }));
    }
    return { ...target, granted: false };
  }
}
