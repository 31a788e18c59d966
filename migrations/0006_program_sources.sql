-- Program mechanics (tiers, rewards, stamp cards, referrals, achievements, campaigns) credit and debit points too:
-- the ledger names each of them as the source of an entry.
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_source_type_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_source_type_check CHECK (source_type IN (
  'transaction', 'event', 'rule', 'campaign', 'admin', 'redemption', 'hold', 'system',
  'reward', 'stamp_card', 'referral', 'achievement', 'tier'
));
