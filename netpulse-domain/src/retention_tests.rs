use super::*;

const DAY: i64 = 86_400;

fn ts(s: i64) -> Timestamp {
    Timestamp::from_unix_seconds(s)
}

#[test]
fn defaults_are_the_documented_ones_and_pass() {
    let r = Retention::default();
    assert_eq!(r.keep(DataKind::RawChecks), Keep::Days(35));
    assert_eq!(r.keep(DataKind::RawSpeed), Keep::Days(400));
    assert_eq!(r.keep(DataKind::Hourly), Keep::Days(400));
    assert_eq!(r.keep(DataKind::Daily), Keep::Days(1_830));
    assert_eq!(r.keep(DataKind::Weekly), Keep::Forever);
    for k in DataKind::ALL {
        r.check(k).unwrap();
    }
}

#[test]
fn names_parse_back() {
    for k in DataKind::ALL {
        assert_eq!(DataKind::parse(k.name()), Some(k));
        assert!(k.setting_key().starts_with("retention."));
    }
    assert_eq!(DataKind::parse(" RAW_SPEED "), Some(DataKind::RawSpeed));
    assert_eq!(DataKind::parse("raw"), None);
    assert_eq!(DataKind::parse(""), None);
}

#[test]
fn keep_parses_days_and_forever_only() {
    assert_eq!(Keep::parse("35"), Ok(Keep::Days(35)));
    assert_eq!(Keep::parse(" Forever "), Ok(Keep::Forever));
    assert_eq!(Keep::parse("36500"), Ok(Keep::Days(MAX_DAYS)));
    for bad in ["0", "-1", "36501", "1.5", "", "ten", "99999999999"] {
        let e = Keep::parse(bad).unwrap_err();
        assert!(e.contains("number of days"), "{bad}: {e}");
    }
    assert_eq!(Keep::Days(4).to_string(), "4");
    assert_eq!(Keep::Forever.to_string(), "forever");
}

#[test]
fn each_minimum_is_enforced_and_named() {
    for k in DataKind::ALL {
        let (min, _) = k.minimum();
        // Every other kind at its minimum (weekly forever): only the minimum can fail.
        let mut r = Retention::default();
        for o in [
            DataKind::RawChecks,
            DataKind::RawSpeed,
            DataKind::Hourly,
            DataKind::Daily,
        ] {
            r = r.with(o, Keep::Days(o.minimum().0)).unwrap();
        }
        let e = r.with(k, Keep::Days(min - 1)).unwrap_err();
        assert_eq!(e.kind, k);
        assert!(e.to_string().starts_with(k.setting_key()), "{e}");
        assert!(e.message.contains(&format!("at least {min} days")), "{e}");
        r.with(k, Keep::Days(min)).unwrap();
    }
}

#[test]
fn the_coarser_level_must_cover_what_the_finer_drops() {
    let r = Retention::default();
    // Raw speed kept longer than daily: refused, naming the setting being changed.
    let e = r.with(DataKind::RawSpeed, Keep::Days(1_824)).unwrap_err();
    assert_eq!(e.kind, DataKind::RawSpeed);
    assert!(e.message.contains("daily (1830 days)"), "{}", e.message);
    r.with(DataKind::RawSpeed, Keep::Days(1_823)).unwrap();
    let e = r.with(DataKind::RawSpeed, Keep::Forever).unwrap_err();
    assert_eq!(e.kind, DataKind::RawSpeed);
    // Daily shortened below raw speed + 7: the daily setting is named.
    let e = r.with(DataKind::Daily, Keep::Days(406)).unwrap_err();
    assert_eq!(e.kind, DataKind::Daily);
    r.with(DataKind::Daily, Keep::Days(407)).unwrap();
    // Hourly too.
    let e = r.with(DataKind::Hourly, Keep::Days(1_825)).unwrap_err();
    assert_eq!(e.kind, DataKind::Hourly);
    // Weekly must outlive daily.
    let e = r.with(DataKind::Weekly, Keep::Days(1_836)).unwrap_err();
    assert_eq!(e.kind, DataKind::Weekly);
    r.with(DataKind::Weekly, Keep::Days(1_837)).unwrap();
    // Forever covers anything; raw checks have no coarser rollup.
    let all_forever = [DataKind::Weekly, DataKind::Daily, DataKind::Hourly]
        .into_iter()
        .try_fold(r, |r, k| r.with(k, Keep::Forever))
        .unwrap();
    all_forever.with(DataKind::RawSpeed, Keep::Forever).unwrap();
    r.with(DataKind::RawChecks, Keep::Days(MAX_DAYS)).unwrap();
    r.with(DataKind::RawChecks, Keep::Forever).unwrap();
}

#[test]
fn raw_cuts_at_the_start_of_a_local_day_and_rollups_exactly() {
    let now = ts(1_780_000_000);
    // A site day starting at 22:00 UTC.
    let day_start = |t: Timestamp| {
        let s = t.unix_seconds() - 22 * 3_600;
        ts(s.div_euclid(DAY) * DAY + 22 * 3_600)
    };
    let raw = DataKind::RawSpeed
        .cut(Keep::Days(35), now, day_start)
        .unwrap();
    let exact = now.plus_seconds(-35 * DAY);
    assert!(raw <= exact && exact.seconds_since(raw) < DAY);
    assert_eq!(day_start(raw), raw);
    assert_eq!(
        DataKind::RawChecks.cut(Keep::Days(35), now, day_start),
        Some(raw)
    );
    for k in [DataKind::Hourly, DataKind::Daily, DataKind::Weekly] {
        assert_eq!(k.cut(Keep::Days(35), now, day_start), Some(exact));
        assert_eq!(k.cut(Keep::Forever, now, day_start), None);
    }
}

#[test]
fn a_floor_only_moves_forward_and_guards_recomputes() {
    assert_eq!(floor_after(None, ts(100)), ts(100));
    assert_eq!(floor_after(Some(ts(50)), ts(100)), ts(100));
    // A longer retention set after a prune does not bring the floor back.
    assert_eq!(floor_after(Some(ts(200)), ts(100)), ts(200));
    assert!(recomputable(ts(0), None));
    assert!(recomputable(ts(100), Some(ts(100))));
    assert!(!recomputable(ts(99), Some(ts(100))));
}

#[test]
fn a_stored_set_is_checked_as_a_whole() {
    // Valid as a whole although hourly 400 alone would break daily 400.
    let set = [
        (DataKind::Daily, Keep::Days(400)),
        (DataKind::Hourly, Keep::Days(35)),
        (DataKind::RawSpeed, Keep::Days(35)),
    ];
    let r = Retention::of(&set).unwrap();
    assert_eq!(r.keep(DataKind::Daily), Keep::Days(400));
    assert_eq!(r.keep(DataKind::Weekly), Keep::Forever);
    assert_eq!(Retention::of(&[]).unwrap(), Retention::default());
    let e = Retention::of(&[(DataKind::Daily, Keep::Days(400))]).unwrap_err();
    assert_eq!(e.kind, DataKind::Daily);
}
