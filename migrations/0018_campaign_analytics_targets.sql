-- Campaign audiences from analytics (docs/program/campaigns.md → Conditions and audience; docs/analytics/at-risk.md):
-- the member's RFM segment and whether they are on the at-risk list, both as of the newest published analytics run
-- (member_analytics). Conditions are columns of campaigns, like tier_codes; NULL: no condition.
ALTER TABLE campaigns ADD COLUMN rfm_segments text[];
ALTER TABLE campaigns ADD COLUMN at_risk boolean;
