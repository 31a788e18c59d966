-- Campaigns of kind extra_stamp (docs/program/campaigns.md): a campaign puts extra stamps on a member's stamp card
-- through the stamp cards module, and takes them back when the order's return or void takes the card's own stamps.
-- Those stamps are rows of their own kind, so a card's history tells a campaign's stamps from the purchase's.
ALTER TABLE stamp_events DROP CONSTRAINT stamp_events_kind_check;
ALTER TABLE stamp_events ADD CONSTRAINT stamp_events_kind_check
  CHECK (kind IN ('purchase', 'visit', 'return', 'void', 'manual', 'campaign'));
