/**
 * The composition root: config -> database -> platform -> modules -> HTTP.
 * Nothing else wires modules together; tests, the CLI and the server all build
 * Patron through `createPatron`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { SettableClock } from './platform/clock.js';
import type { Config } from './platform/config.js';
import { Db } from './platform/db/db.js';
import { startEmbedded, type EmbeddedServer } from './platform/db/embedded.js';
import { migrate } from './platform/db/migrate.js';
import { Notifications } from './platform/db/notifications.js';
import { TenantConfig } from './platform/db/tenant-cache.js';
import { auditRoutes } from './platform/audit/audit.routes.js';
import { healthRoutes } from './platform/http/health.routes.js';
import type { HttpKit } from './platform/http/kit.js';
import { createServer, type HttpServer } from './platform/http/server.js';
import { createWriteRunner } from './platform/http/write.js';
import { purgeExpired } from './platform/idempotency/idempotency.js';
import { Imports } from './platform/imports/imports.js';
import { importsRoutes } from './platform/imports/imports.routes.js';
import { Jobs } from './platform/jobs/jobs.js';
import { createLogger } from './platform/logger.js';
import { Metrics } from './platform/metrics.js';
import { outboxRoutes } from './platform/outbox/outbox.routes.js';
import { OutboxDispatcher } from './platform/outbox/dispatch.js';
import { membersExportRoutes } from './modules/members/members.export.js';
import { membersImporter } from './modules/members/members.import.js';
import { MembersService } from './modules/members/members.service.js';
import { membersRoutes } from './modules/members/members.routes.js';
import { TenantsService } from './modules/tenants/tenants.service.js';
import { tenantsRoutes } from './modules/tenants/tenants.routes.js';
import { ProgramsService } from './modules/programs/programs.service.js';
import { programsRoutes } from './modules/programs/programs.routes.js';
import { RulesService } from './modules/rules/rules.service.js';
import { rulesRoutes } from './modules/rules/rules.routes.js';
import { Ledger } from './modules/ledger/ledger.service.js';
import { TransactionsService } from './modules/transactions/transactions.service.js';
import { transactionsRoutes, transactionView } from './modules/transactions/transactions.routes.js';
import { transactionsImporter } from './modules/transactions/transactions.import.js';
import { defineLedgerJobs } from './modules/ledger/ledger.jobs.js';
import { ledgerRoutes } from './modules/ledger/ledger.routes.js';
import { RedemptionsService } from './modules/redemptions/redemptions.service.js';
import { redemptionsRoutes } from './modules/redemptions/redemptions.routes.js';
import { EventsService } from './modules/events/events.service.js';
import { eventsRoutes, eventView } from './modules/events/events.routes.js';
import { createGiveGift, type GiftGivers } from './modules/rewards/rewards.gift.js';
import { CampaignsService } from './modules/campaigns/campaigns.service.js';
import { campaignsRoutes } from './modules/campaigns/campaigns.routes.js';
import { defineCampaignJobs } from './modules/campaigns/campaigns.jobs.js';
import { WalletService } from './modules/wallet/wallet.service.js';
import { walletRoutes } from './modules/wallet/wallet.routes.js';
import { VouchersService } from './modules/vouchers/vouchers.service.js';
import { vouchersRoutes } from './modules/vouchers/vouchers.routes.js';
import { defineVoucherJobs } from './modules/vouchers/vouchers.jobs.js';
import { TiersService } from './modules/tiers/tiers.service.js';
import { tiersRoutes } from './modules/tiers/tiers.routes.js';
import { defineTiersJobs } from './modules/tiers/tiers.jobs.js';
import { StampCardsService } from './modules/stamp-cards/stamp-cards.service.js';
import { stampCardsRoutes } from './modules/stamp-cards/stamp-cards.routes.js';
import { AchievementsService } from './modules/achievements/achievements.service.js';
import { achievementsRoutes } from './modules/achievements/achievements.routes.js';
import { ReferralsService } from './modules/referrals/referrals.service.js';
import { referralsRoutes } from './modules/referrals/referrals.routes.js';
import { defineReferralJobs } from './modules/referrals/referrals.jobs.js';
import { RewardsService } from './modules/rewards/rewards.service.js';
import { rewardsRoutes } from './modules/rewards/rewards.routes.js';
import { AgentsService } from './modules/agents/agents.service.js';
import { agentsRoutes } from './modules/agents/agents.routes.js';
import { CasesService } from './modules/cases/cases.service.js';
import { casesRoutes } from './modules/cases/cases.routes.js';
import { defineCaseJobs } from './modules/cases/cases.jobs.js';
import { SurveysService } from './modules/surveys/surveys.service.js';
import { surveysRoutes } from './modules/surveys/surveys.routes.js';
import { defineSurveyJobs } from './modules/surveys/surveys.jobs.js';
import { surveyPageRoutes } from './modules/surveys/page/page.routes.js';
import { surveyTemplatesRoutes } from './modules/surveys/surveys.templates.routes.js';
import { SurveyResults } from './modules/surveys/surveys.results.js';
import { surveyResultsRoutes } from './modules/surveys/results.routes.js';
import { TemplatesService } from './modules/messaging/templates/templates.service.js';
import { templatesRoutes } from './modules/messaging/templates/templates.routes.js';
import { BehaviourService } from './modules/analytics/behaviour/behaviour.js';
import { behaviourRoutes } from './modules/analytics/behaviour/behaviour.routes.js';
import { analyticsTargets } from './modules/analytics/at-risk/targets.js';
import { atRiskRoutes } from './modules/analytics/at-risk/at-risk.routes.js';
import { AnalyticsService } from './modules/analytics/analytics.service.js';
import { analyticsResultRoutes, analyticsRoutes, RFM_VIEW } from './modules/analytics/analytics.routes.js';
import { defineAnalyticsJobs } from './modules/analytics/analytics.jobs.js';
import type { ResultView } from './modules/analytics/analytics.types.js';
import { cohortsStage, cohortsView } from './modules/analytics/cohorts/cohorts.js';
import { atRiskStage, atRiskView } from './modules/analytics/at-risk/at-risk.js';
import { experienceStage, experienceView } from './modules/analytics/experience/experience.js';
import { economicsStage, economicsView } from './modules/analytics/economics/economics.stage.js';
import { SimulatorService } from './modules/analytics/simulator/simulator.service.js';
import { simulatorRoutes } from './modules/analytics/simulator/simulator.routes.js';
import { defineSimulatorJobs } from './modules/analytics/simulator/simulator.jobs.js';
import { createMailer } from './platform/mail/mailer.js';
import { MessagingService } from './modules/messaging/messaging.service.js';
import { MessagingSettingsService } from './modules/messaging/messaging.settings.js';
import { SuppressionsService } from './modules/messaging/messaging.suppressions.js';
import { MessageSender } from './modules/messaging/messaging.sender.js';
import { defineMessagingJobs } from './modules/messaging/messaging.jobs.js';
import { messagingRoutes } from './modules/messaging/messaging.routes.js';
import { UnsubscribeLinks } from './modules/messaging/unsubscribe/unsubscribe.js';
import { unsubscribeRoutes } from './modules/messaging/unsubscribe/unsubscribe.routes.js';
import { WebhooksService } from './modules/webhooks/webhooks.service.js';
import type { Locale } from './platform/http/schema.js';
import { webhooksRoutes } from './modules/webhooks/webhooks.routes.js';
import { defineWebhookJobs } from './modules/webhooks/webhooks.jobs.js';
// Messaging triggers (docs/messaging/triggers.md).
import { TriggersService } from './modules/messaging/triggers/triggers.service.js';
import { triggersConsumer } from './modules/messaging/triggers/triggers.consumer.js';
import { defineTriggerJobs } from './modules/messaging/triggers/triggers.jobs.js';
import { triggersRoutes } from './modules/messaging/triggers/triggers.routes.js';
import { atRiskMemberIds } from './modules/analytics/at-risk/targets.js';

export const VERSION: string = JSON.parse(
  fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../package.json'), 'utf8'),
).version;

export interface PatronOptions {
  config: Config;
  logger?: Logger;
  clock?: SettableClock;
  /** 'work': run job workers and the scheduler here (server); 'client': enqueue only; 'off': no queue (CLI). */
  jobs?: 'work' | 'client' | 'off';
  /**
   * With jobs 'work': also fire the cron schedules (default true). Test apps turn it off: test files share one
   * database, and a schedule firing on the real clock (point activation, expiry, the hourly triggers) would change
   * other files' tenants in the middle of their assertions; tests run scheduled jobs on demand.
   */
  schedule?: boolean;
  /** Build the HTTP server (false for CLI commands). */
  http?: boolean;
}

export interface Services {
  tenants: TenantsService;
  members: MembersService;
  imports: Imports;
  programs: ProgramsService;
  rules: RulesService;
  ledger: Ledger;
  transactions: TransactionsService;
  events: EventsService;
  campaigns: CampaignsService;
  wallet: WalletService;
  vouchers: VouchersService;
  tiers: TiersService;
  stampCards: StampCardsService;
  achievements: AchievementsService;
  referrals: ReferralsService;
  rewards: RewardsService;
  agents: AgentsService;
  cases: CasesService;
  surveys: SurveysService;
  analytics: AnalyticsService;
  behaviour: BehaviourService;
  messaging: MessagingService;
  webhooks: WebhooksService;
  templates: TemplatesService;
  triggers: TriggersService;
}

export interface Patron {
  config: Config;
  logger: Logger;
  clock: SettableClock;
  db: Db;
  jobs: Jobs;
  dispatcher: OutboxDispatcher;
  services: Services;
  http: HttpServer | null;
  embedded: EmbeddedServer | null;
  /** LISTEN/NOTIFY for cache invalidation (servers only). */
  notifications: Notifications | null;
  /** Listens on config.host:config.port; returns the base URL. */
  listen(): Promise<string>;
  /** Graceful shutdown: stop accepting, finish in-flight requests, stop jobs, close the pool, stop the embedded server. */
  close(): Promise<void>;
}

export async function createPatron(opts: PatronOptions): Promise<Patron> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger(config.logLevel);
  const clock = opts.clock ?? new SettableClock();
  const jobsMode = opts.jobs ?? 'work';

  // 1. Database: external, or our own embedded server.
  let embedded: EmbeddedServer | null = null;
  let url = config.databaseUrl;
  if (!url) {
    // A CLI command (no HTTP) is a transient owner: a server started meanwhile takes PostgreSQL over from it.
    embedded = await startEmbedded(config.dataDir, (msg) => logger.info(msg), { transient: opts.http === false });
    url = embedded.url;
  }
  const db = new Db({ connectionString: url, max: config.dbPoolSize });
  const cleanup: Array<() => Promise<void>> = [];
  try {
    await migrate(db, undefined, (msg) => logger.info(msg));

    // 2. Platform.
    const metrics = new Metrics(db);
    // A server listens for cache invalidations (API keys); a CLI command has no cache to keep.
    const notifications = opts.http !== false ? new Notifications(url, logger) : null;
    const tenantConfig = new TenantConfig(notifications);
    const jobs = new Jobs({ db, clock, log: logger }, url, metrics);
    // The outbox is handed to its consumers (webhooks, messaging triggers; registered below) by the outbox.dispatch
    // pump (docs/events.md).
    const dispatcher = new OutboxDispatcher({ db, clock, log: logger, onSkip: (consumer) => metrics.onOutboxSkip(consumer) });
    jobs.define({
      name: 'outbox.dispatch',
      description: 'Hand new domain events to their consumers (webhook deliveries, message triggers); runs every DELIVERY_POLL_MS.',
      pollMs: config.deliveryPollMs,
      handler: async (data: { tenant_id?: string }) => {
        const r = await dispatcher.dispatchAll(data.tenant_id);
        // What was handed out may have made webhook deliveries and messages: send them now, not a poll later.
        if (r.events > 0) for (const pump of ['webhooks.deliver', 'messages.send']) jobs.nudge(pump);
        return r;
      },
    });

    // 3. Modules.
    const tenants = new TenantsService(db, clock, notifications, tenantConfig);
    const members = new MembersService(clock, tenants);
    const imports = new Imports({ db, clock, jobs, log: logger, importLimit: config.importLimit });
    imports.register(membersImporter(tenants));

    // Earning: the program's settings and rules, the ledger, and what moves points (orders, events, redemptions).
    const programs = new ProgramsService(clock, tenants, tenantConfig);
    const rules = new RulesService(clock, tenantConfig);
    const ledger = new Ledger(clock);
    const transactions = new TransactionsService({ clock, ledger, members, programs, rules });
    imports.register(transactionsImporter({ transactions, members, programs, tenants }));
    const redemptions = new RedemptionsService(clock, ledger, programs, members);
    const events = new EventsService({ clock, ledger, members, programs, rules });
    defineLedgerJobs(jobs, { db, ledger, programs, tenants });

    // The most rows of one kind a member's GDPR export holds, for every module's section.
    const EXPORT_LIMIT = 100_000;

    // Program mechanics (docs/program.md). Gifts (points, a catalog reward, store credit) are given one way, whoever gives them.
    const giftGivers: GiftGivers = {};
    const giveGift = createGiveGift({ now: () => clock.now(), program: (tx, t) => programs.get(tx, t), givers: giftGivers });
    // Store credit (cashback, gifts, refunds) and vouchers (docs/program/wallet.md, docs/program/vouchers.md).
    const wallet = new WalletService(clock, members, programs);
    giftGivers.credit = async (tx, t, m, amount, source) => {
      const { currency } = await programs.get(tx, t);
      await wallet.credit(tx, t, m, { amount, currency, reason: source.reason, source_type: source.source_type, source_id: source.source_id });
    };
    const vouchers = new VouchersService(clock, members, programs);
    defineVoucherJobs(jobs, { db, vouchers, tenants });
    members.registerExportSection('wallet', (q, t, m) => wallet.exportOf(q, t, m, EXPORT_LIMIT));
    // Tiers: the member's tier and earn multiplier judge orders and events; orders and action bonuses may move members up.
    const tiers = new TiersService({ clock, ledger, transactions, programs, members, config: tenantConfig });
    transactions.setStanding(tiers.standing);
    events.setStanding(tiers.standing);
    transactions.registerHook(tiers.orderHook());
    events.registerHook(tiers.eventHook());
    defineTiersJobs(jobs, { db, tiers, tenants });
    const stampCards = new StampCardsService({ clock, ledger, members, programs, giveGift, config: tenantConfig });
    transactions.registerHook(stampCards.orderHook());
    events.registerHook(stampCards.eventHook());
    members.registerExportSection('stamp_cards', (q, t, m) => stampCards.exportOf(q, t, m, EXPORT_LIMIT));
    const achievements = new AchievementsService({ clock, ledger, members, programs, giveGift });
    transactions.registerHook(achievements.orderHook());
    events.registerHook(achievements.eventHook());
    members.registerExportSection('achievements', (q, t, m) => achievements.exportOf(q, t, m));
    members.registerEraser('achievements', (tx, t, m) => achievements.eraseMember(tx, t, m));
    // Referrals: codes, attribution with guards, conversion after the return window (docs/program/referrals.md).
    const referrals = new ReferralsService({ clock, ledger, members, programs, transactions, giveGift });
    transactions.registerHook(referrals.orderHook());
    defineReferralJobs(jobs, { db, referrals, tenants });
    members.registerEraser('referrals', (tx, t, m) => referrals.eraseMember(tx, t, m));
    members.registerExportSection('referrals', (q, t, m) => referrals.exportMember(q, t, m));
    // Campaigns: awards on orders and action events, budgets, control groups; audiences by the member's tier and, from
    // the analytics module's newest published run, by RFM segment and the at-risk list.
    // Registered after the stamp cards: an extra_stamp campaign reads the stamps the order (or its return) left on a card.
    const campaigns = new CampaignsService({ clock, programs, members, transactions, stampCards, standing: tiers.standing, targets: analyticsTargets, config: tenantConfig });
    transactions.registerHook(campaigns.orderHook());
    events.registerHook(campaigns.eventHook());
    defineCampaignJobs(jobs, { db, campaigns, tenants });
    members.registerExportSection('campaigns', (q, t, m) => campaigns.memberRecord(q, t, m, EXPORT_LIMIT));
    // Rewards catalog: points spent through redemptions, vouchers and cashback issued by the modules above; prices and reservations by the member's tier.
    const rewards = new RewardsService({ clock, ledger, members, programs, redemptions, vouchers, wallet, standing: tiers.standing });
    giftGivers.reward = (tx, book, rewardId, source) => rewards.give(tx, book, rewardId, source);
    // Cancelling an unused voucher a reward issued refunds its points (in the voucher's transaction).
    vouchers.onCancelled((tx, t, voucher) => rewards.onVoucherCancelled(tx, t, voucher));
    // GDPR: a member's reward redemptions go into the export; erasure clears the addresses and notes they gave.
    members.registerExportSection('rewards', (q, t, m) => rewards.exportMember(q, t, m, EXPORT_LIMIT));
    members.registerEraser('rewards', (tx, t, m) => rewards.eraseMember(tx, t, m));
    // GDPR: what the points modules hold about a member goes into the export; erasure clears event properties.
    members.registerExportSection('points', async (q, t, m) => ({ balance: await ledger.balance(q, t, m), entries: await ledger.entries(q, t, m, { limit: EXPORT_LIMIT }) }));
    members.registerExportSection('orders', async (q, t, m) => (await transactions.list(q, t, { memberId: m, limit: EXPORT_LIMIT })).map(transactionView));
    members.registerExportSection('redemptions', (q, t, m) => redemptions.list(q, t, { memberId: m, limit: EXPORT_LIMIT }));
    members.registerExportSection('events', async (q, t, m) => (await events.list(q, t, { memberId: m, limit: EXPORT_LIMIT })).map(eventView));
    members.registerEraser('events', (tx, t, m) => events.eraseMember(tx, t, m));
    // The closed loop (docs/cases.md): cases from survey answers and feedback, worked by agents and teams, with SLAs.
    // The surveys module hands its responses in (surveys.onResponded -> cases.onSurveyResponded) and sends the
    // follow-up when a case closes (cases.onClosed -> surveys.afterCaseClosed).
    const agents = new AgentsService({ clock });
    const cases = new CasesService({ clock, ledger, members, programs, agents, giveGift, standing: tiers.standing, config: tenantConfig });
    defineCaseJobs(jobs, { db, cases, tenants });
    members.registerExportSection('cases', (q, t, m) => cases.exportOf(q, t, m, EXPORT_LIMIT));
    members.registerEraser('cases', (tx, t, m) => cases.eraseMember(tx, t, m));
    // Surveys (docs/surveys.md): invitations N days after an order (an order hook), rewards through action events, the
    // member's tier on every response; links point at PATRON_PUBLIC_URL, else at the address the server listens on.
    let listeningUrl = `http://${config.host}:${config.port}`;
    const surveys = new SurveysService({ clock, members, events, standing: tiers.standing, baseUrl: () => config.publicUrl ?? listeningUrl, config: tenantConfig });
    transactions.registerHook(surveys.orderHook());
    defineSurveyJobs(jobs, { db, surveys, tenants });
    members.registerExportSection('surveys', (q, t, m) => surveys.exportMember(q, t, m, EXPORT_LIMIT));
    members.registerEraser('surveys', (tx, t, m) => surveys.eraseMember(tx, t, m));
    // The closed loop: unhappy answers open cases; closing a case sends the follow-up survey.
    surveys.onResponded((tx, e) => cases.onSurveyResponded(tx, e));
    cases.onClosed((tx, tenantId, c) => surveys.afterCaseClosed(tx, tenantId, c));
    // Survey results: scores, trends, breakdowns and free-text analysis over the surveys module's answers.
    const surveyResults = new SurveyResults({ tenants });

    // ── Messaging: the send log, its templates and the sender (docs/messaging.md) ──────────────────────────────
    // Triggers queue messages with messaging.enqueue (in their transaction). The messages.send pump decides each at
    // send time (member still active, address, marketing consent per channel, suppressed address, quiet hours in the
    // member's time zone, the tenant's rate limit), renders it with the templates, emails it through SMTP_URL (one
    // pooled transport, closed on shutdown) or hands SMS/push to the webhooks as message.*_requested events. Marketing
    // carries a signed one-click unsubscribe link (/u/<token>, RFC 8058) at PATRON_PUBLIC_URL, else the listening
    // address. GDPR: the member's messages go into the export; erasure scrubs their addresses, variables and subjects.
    const messaging = new MessagingService({ clock, members, tenants });
    // The templates of every trigger in every language (docs/messaging/templates.md): the sender renders with them;
    // their routes give a tenant's overrides and previews.
    const templates = new TemplatesService({ clock });
    const messagingSettings = new MessagingSettingsService(clock);
    const suppressions = new SuppressionsService(clock);
    const mailer = createMailer({ smtpUrl: config.smtpUrl, log: logger });
    cleanup.push(() => mailer.close());
    const sender = new MessageSender({
      db, clock, log: logger, members, tenants, settings: messagingSettings, suppressions, templates, mailer,
      smtpFrom: config.smtpFrom, publicUrl: config.publicUrl, listeningUrl: () => listeningUrl,
      hasSubscriber: (q, tenantId, eventType) => webhooks.hasActiveSubscriber(q, tenantId, eventType),
    });
    defineMessagingJobs(jobs, { sender, pollMs: config.deliveryPollMs });
    const unsubscribeLinks = new UnsubscribeLinks({ db, members, tenants, settings: messagingSettings });
    members.registerExportSection('messages', (q, t, m) => messaging.exportMember(q, t, m, EXPORT_LIMIT));
    members.registerEraser('messages', (tx, t, m) => messaging.eraseMember(tx, t, m));
    members.registerEraser('message_requests', (tx, t, m) => sender.eraseMember(tx, t, m));
    // Analytics (docs/analytics.md): runs read the other modules' tables and write only their own. The submodules plug
    // into every run here, after the core: `analytics.registerStage({stage, kind, run})` for a stage, and a ResultView in
    // `analyticsViews` for the GET route of the result document it stores.
    const analytics = new AnalyticsService({ db, clock, jobs, programs, members, log: logger });
    const analyticsViews: ResultView[] = [RFM_VIEW];
    defineAnalyticsJobs(jobs, { analytics, tenants });
    // GDPR: the export carries the member's current analytics; erasure deletes their scores in every run.
    members.registerExportSection('analytics', (q, t, m) => analytics.exportMember(q, t, m));
    members.registerEraser('analytics', (tx, t, m) => analytics.eraseMember(tx, t, m));
    // Cohorts, the at-risk list, program economics and experience by segment are stages of every run (they run after the core stage of
    // their name: at_risk after scoring, experience after at_risk); their documents are served by analyticsViews.
    analytics.registerStage(cohortsStage);
    analytics.registerStage(atRiskStage);
    analytics.registerStage(experienceStage);
    analytics.registerStage(economicsStage);
    analyticsViews.push(cohortsView, atRiskView, experienceView, economicsView);
    // Behaviour metrics over any range of days, computed when asked (docs/analytics/behaviour.md), with the tenant's
    // analytics settings (the definition of "lost").
    const behaviour = new BehaviourService({ clock, settings: async (q, t) => (await analytics.settings(q, t)).settings });
    // Analytics: the what-if simulator replays the last months of orders through a draft of the earn rules, tiers or
    // expiry (docs/analytics/simulator.md), in the analytics.simulate job.
    const simulator = new SimulatorService({ clock, jobs, programs, rules, tiers, log: logger });
    defineSimulatorJobs(jobs, { db, simulator });

    // Webhooks (docs/webhooks.md): the outbox fan-out makes one delivery per event and subscribed endpoint; the
    // webhooks.deliver pump sends them (signed, retried, in order per member). Routes: webhooksRoutes below.
    const webhooks = new WebhooksService({
      clock, log: logger, timeoutMs: config.webhookTimeoutMs, allowPrivateNetworks: config.webhookAllowPrivateNetworks, logRetentionDays: config.webhookLogRetentionDays,
      // The tenant's notification email is told, in the tenant's language, once per disabling.
      notifyDisabled: async (tx, tenantId, info) => {
        const tenant = await tenants.getTenant(tx, tenantId);
        if (!tenant?.notification_email) {
          logger.warn({ tenant_id: tenantId, endpoint_id: info.endpointId }, 'webhook endpoint disabled; the tenant has no notification email to tell');
          return;
        }
        const at = clock.now();
        await messaging.enqueue(tx, tenantId, {
          trigger: 'webhook_endpoint_disabled',
          dedupeKey: `${info.endpointId}:${at.toISOString()}`,
          memberId: null,
          to: { address: tenant.notification_email, locale: tenant.default_locale as Locale },
          variables: { endpoint: { url: info.url, failing_since: (info.failingSince ?? at).toISOString().slice(0, 10) } },
        });
      },
    });
    dispatcher.register(webhooks.consumer());
    members.registerEraser('webhook_responses', (tx, t, m) => webhooks.eraseMember(tx, t, m));
    defineWebhookJobs(jobs, { db, webhooks, pollMs: config.deliveryPollMs, tenants });
    // ── Messaging triggers (docs/messaging/triggers.md) ─────────────────────────────────────────────────────────
    // The member triggers only enqueue into the send log (MessagingService.enqueue); the sender sends. Scheduled ones
    // run in the `messages.triggers` job, event ones in the `messaging.triggers` outbox consumer. Offers go through
    // giveGift. The routes are registered below with the other HTTP routes (same heading).
    const triggers = new TriggersService({
      clock, messaging, members, tenants, programs, ledger, tiers, transactions, rewards, giveGift, atRisk: atRiskMemberIds,
    });
    defineTriggerJobs(jobs, { db, triggers, tenants });
    dispatcher.register(triggersConsumer({ triggers, members, tenants, programs, tiers, rewards, vouchers, surveys, cases, referrals, now: () => clock.now() }));
    // ── end of messaging triggers ──────────────────────────────────────────────────────────────────────────────

    jobs.define({
      name: 'idempotency.purge',
      description: `Delete stored Idempotency-Key answers older than ${config.idempotencyRetentionHours} hours.`,
      schedule: '17 * * * *',
      handler: async (_data, ctx) => {
        const before = new Date(ctx.clock.now().getTime() - config.idempotencyRetentionHours * 3600_000);
        let deleted = 0;
        for (const tenantId of await tenants.allTenantIds()) deleted += await purgeExpired(ctx.db, tenantId, before);
        return { deleted };
      },
    });

    if (config.apiKey) await tenants.ensureConfiguredKey(config.apiKey);

    if (notifications) {
      await notifications.start();
      cleanup.push(() => notifications.stop());
    }

    // 4. HTTP.
    let http: HttpServer | null = null;
    if (opts.http !== false) {
      http = await createServer({ config, logger, metrics, resolveKey: tenants.resolveKey, version: VERSION });
      const kit: HttpKit = { write: createWriteRunner({ db, clock }) };
      await http.register(healthRoutes({ db, metrics }));
      await http.register(tenantsRoutes({ db, tenants, http: kit }));
      await http.register(auditRoutes({ db }));
      await http.register(outboxRoutes({ db, dispatcher, http: kit }));
      await http.register(membersRoutes({ db, members, http: kit }));
      await http.register(importsRoutes({ imports }));
      await http.register(membersExportRoutes({ db }));
            await http.register(programsRoutes({ db, programs, http: kit }));
      await http.register(rulesRoutes({ db, rules, http: kit }));
      await http.register(transactionsRoutes({ db, transactions, http: kit }));
      await http.register(ledgerRoutes({ db, clock, ledger, programs, members, http: kit }));
      await http.register(redemptionsRoutes({ db, redemptions, http: kit }));
      await http.register(eventsRoutes({ db, events, http: kit }));
      // Program mechanics.
      await http.register(campaignsRoutes({ db, campaigns, http: kit }));
      await http.register(walletRoutes({ db, wallet, members, programs, http: kit }));
      await http.register(vouchersRoutes({ db, vouchers, http: kit, rateLimit: config.rateLimit.enabled ? config.voucherRateLimit : null, now: () => clock.now() }));
      await http.register(tiersRoutes({ db, tiers, http: kit }));
      await http.register(stampCardsRoutes({ db, stampCards, http: kit }));
      await http.register(achievementsRoutes({ db, achievements, http: kit }));
      await http.register(referralsRoutes({ db, referrals, http: kit }));
      await http.register(rewardsRoutes({ db, rewards, http: kit }));
      await http.register(agentsRoutes({ db, agents, http: kit }));
      await http.register(casesRoutes({ db, cases, http: kit }));
      await http.register(surveysRoutes({ db, surveys, http: kit }));
      // The survey response page (public, HTML: docs/surveys/response-page.md) and the survey templates.
      await http.register(surveyPageRoutes({ db, surveys, rateLimit: config.rateLimit.enabled ? config.surveyPageRateLimit : null }));
      await http.register(surveyTemplatesRoutes());
      await http.register(surveyResultsRoutes({ db, results: surveyResults }));
      await http.register(analyticsRoutes({ db, analytics, http: kit }));
      await http.register(analyticsResultRoutes({ db, analytics, views: analyticsViews }));
      // Analytics: behaviour metrics (read scope).
      await http.register(behaviourRoutes({ db, behaviour }));
      // Analytics (docs/analytics/at-risk.md): the at-risk list and its CSV.
      await http.register(atRiskRoutes({ db }));
      await http.register(simulatorRoutes({ db, simulator, http: kit }));
      // Messaging (the block above): settings, the send log, suppressions and bounces; the public unsubscribe page.
      await http.register(messagingRoutes({ db, messaging, settings: messagingSettings, suppressions, http: kit }));
      await http.register(unsubscribeRoutes({ links: unsubscribeLinks }));
      // Webhooks: endpoints, secrets, the delivery log and replays.
      await http.register(webhooksRoutes({ db, webhooks, http: kit }));
      // Messaging: the message templates (list, effective template, override, reset, preview).
      await http.register(templatesRoutes({ db, templates, http: kit }));
      // Messaging triggers (docs/messaging/triggers.md).
      await http.register(triggersRoutes({ db, triggers, http: kit, now: () => clock.now() }));
      await http.ready();
    }

    if (jobsMode !== 'off') {
      await jobs.start({ work: jobsMode === 'work', schedule: opts.schedule ?? true });
      cleanup.push(() => jobs.stop());
    }

    let closed = false;
    const patron: Patron = {
      config, logger, clock, db, jobs, dispatcher, http, embedded, notifications,
      services: { tenants, members, imports, programs, rules, ledger, transactions, events, wallet, vouchers, tiers, rewards, stampCards, achievements, referrals, campaigns, agents, cases, surveys, analytics, behaviour, webhooks, messaging, templates, triggers },
      async listen() {
        if (!http) throw new Error('Patron was built without HTTP');
        await http.listen({ port: config.port, host: config.host });
        const addr = http.server.address();
        const port = typeof addr === 'object' && addr ? addr.port : config.port;
        const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
        listeningUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
        return listeningUrl;
      },
      async close() {
        if (closed) return;
        closed = true;
        // Each step is logged, so an operator (and the process tests) can see the order.
        if (http) {
          await http.close(); // stop accepting, finish in-flight requests
          logger.info('shutdown: HTTP server closed, in-flight requests finished');
        }
        await jobs.stop(); // let running jobs finish
        logger.info('shutdown: jobs stopped');
        await mailer.close(); // the pooled SMTP connections (nothing is being sent once the jobs have stopped)
        await notifications?.stop();
        await db.close();
        logger.info('shutdown: database pool closed');
        if (embedded) {
          const stopped = await embedded.stop();
          logger.info(stopped ? 'shutdown: embedded PostgreSQL stopped' : 'shutdown: embedded PostgreSQL left running for its owner process');
        }
      },
    };
    return patron;
  } catch (err) {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
    await db.close().catch(() => undefined);
    if (embedded) await embedded.stop().catch(() => undefined);
    throw err;
  }
}
