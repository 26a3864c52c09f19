-- DNS checks: what each resolver answered for each record type in a round (issue 14: a rating
-- per resolver). One short text per DNS result, `resolver|type|sent|succeeded|median_us` entries
-- joined by `;` (storage/check_dns_detail.rs); NULL for every other kind, so other rows do not
-- grow.
ALTER TABLE check_results ADD COLUMN dns_detail TEXT;
