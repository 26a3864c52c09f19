//! One function per behaviour of the storage port.

use netpulse_domain::alert::{AlertEdge, AlertPolicy};
use netpulse_domain::degradation::HealthSample;
use netpulse_domain::health::{Breach, Thresholds};
use netpulse_domain::id::{ApiTokenId, ConnectionId, ResultId, UserId};
use netpulse_domain::measurement::{FailureClass, Observation};
use netpulse_domain::model::RunPhase;
use netpulse_domain::pool::{Engine, PoolEntry, ServerPool};
use netpulse_domain::schedule::{CronSchedule, Schedule};
use netpulse_domain::values::{Colour, ExpectedSpeed, Name};
use netpulse_ports::storage::{
    ApiToken, IncomingResult, MeasurementFilter, MeasurementSort, PollDetails, RecordOutcome,
    RunScope, Storage, StorageError, User,
};

use crate::storage::helpers::{
    at, connection, digest, failed, measurement, new_id, observation, probe, record, seeded,
};

pub(crate) async fn probe_lifecycle(s: &dyn Storage) {
    let p = probe("home");
    s.create_probe(&p, &digest(7)).await.unwrap();
    assert_eq!(s.probe(&p.id).await.unwrap().unwrap(), p);
    let creds = s.probe_credentials(&p.id).await.unwrap().unwrap();
    assert!(creds.enabled);
    assert_eq!(creds.token_digest, digest(7));

    let other = probe("attic");
    s.create_probe(&other, &digest(8)).await.unwrap();
    let names: Vec<String> = s
        .probes()
        .await
        .unwrap()
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    assert_eq!(names, ["attic", "home"]);

    s.set_probe_enabled(&p.id, false).await.unwrap();
    assert!(!s.probe_credentials(&p.id).await.unwrap().unwrap().enabled);
    s.set_probe_token(&p.id, &digest(9)).await.unwrap();
    assert_eq!(
        s.probe_credentials(&p.id)
            .await
            .unwrap()
            .unwrap()
            .token_digest,
        digest(9)
    );

    let ghost = probe("ghost");
    assert!(matches!(
        s.set_probe_enabled(&ghost.id, true).await,
        Err(StorageError::NotFound { what: "probe", .. })
    ));
    assert!(s.probe(&ghost.id).await.unwrap().is_none());
    assert!(s.probe_credentials(&ghost.id).await.unwrap().is_none());
    s.delete_probe(&other.id).await.unwrap();
    assert!(s.probe(&other.id).await.unwrap().is_none());
}

pub(crate) async fn probe_delete_is_refused_while_connections_exist(s: &dyn Storage) {
    let (p, c) = seeded(s).await;
    let err = s.delete_probe(&p.id).await.unwrap_err();
    assert!(
        matches!(&err, StorageError::Conflict(m) if m.contains("still has connections")),
        "{err}"
    );
    s.delete_connection(&c.id).await.unwrap();
    s.delete_probe(&p.id).await.unwrap();
}

pub(crate) async fn poll_recording_is_debounced(s: &dyn Storage) {
    let (p, _) = seeded(s).await;
    let details = PollDetails {
        agent_version: Some("1.2.3".into()),
        engines: vec![Engine::Ookla, Engine::Http],
    };
    assert!(s.record_poll(&p.id, at(0), &details, 30).await.unwrap());
    assert!(
        !s.record_poll(&p.id, at(20), &details, 30).await.unwrap(),
        "20 s later: debounced"
    );
    assert!(
        s.record_poll(&p.id, at(30), &details, 30).await.unwrap(),
        "30 s later: written"
    );
    let upgraded = PollDetails {
        agent_version: Some("1.2.4".into()),
        ..details.clone()
    };
    assert!(
        s.record_poll(&p.id, at(31), &upgraded, 30).await.unwrap(),
        "a new version is written at once"
    );
    let stored = s.probe(&p.id).await.unwrap().unwrap();
    assert_eq!(stored.last_poll_at, Some(at(31)));
    let creds = s.probe_credentials(&p.id).await.unwrap().unwrap();
    assert_eq!(
        creds.last_poll_at,
        Some(at(31)),
        "authentication reads the poll state too"
    );
    assert_eq!(creds.poll_details, upgraded);
    assert_eq!(stored.agent_version.as_deref(), Some("1.2.4"));
    assert_eq!(stored.agent_engines, vec![Engine::Ookla, Engine::Http]);
}

pub(crate) async fn connection_round_trips_every_field(s: &dyn Storage) {
    let p = probe("home");
    s.create_probe(&p, &digest(1)).await.unwrap();
    let calendar = netpulse_adapters::cron_calendar::CronerCalendar;
    let mut c = connection(&p.id, "fibre");
    c.isp = "Deutsche Telekom".into();
    c.expected = ExpectedSpeed::from_mbps(250, 40);
    c.colour = Colour::Violet;
    c.labels.insert("rack", "4").unwrap();
    c.pool = ServerPool::parse_all(&[
        "ookla:12345",
        "iperf3://10.0.0.1:5201?protocol=udp",
        "https://speed.example",
    ])
    .unwrap();
    c.schedule = Schedule::Cron(
        CronSchedule::new(
            vec!["0 8,20 * * *".into(), "*/15 1-5 * * 1-5".into()],
            "Europe/Berlin",
            &calendar,
        )
        .unwrap(),
    );
    c.thresholds = Thresholds::new(0.8, 0.5, Some(42.5), None, Some(0.0)).unwrap();
    c.adaptive = netpulse_domain::degradation::AdaptivePolicy::new(120, 4, 6).unwrap();
    c.alerts = Some(AlertPolicy::new(5, 2).unwrap());
    c.source_interface = Some("eth1".into());
    c.source_address = Some("192.0.2.10".into());
    s.create_connection(&c).await.unwrap();
    assert_eq!(s.connection(&c.id).await.unwrap().unwrap(), c);
    let state = s.connection_state(&c.id).await.unwrap().unwrap();
    assert_eq!(state, netpulse_domain::model::ConnectionState::default());
}

pub(crate) async fn connection_of_unknown_probe_is_not_found(s: &dyn Storage) {
    let ghost = probe("ghost");
    let c = connection(&ghost.id, "wan1");
    assert!(matches!(
        s.create_connection(&c).await,
        Err(StorageError::NotFound { what: "probe", .. })
    ));
}

pub(crate) async fn connection_update_and_list_order(s: &dyn Storage) {
    let (p, mut c) = seeded(s).await;
    let c2 = connection(&p.id, "backup");
    s.create_connection(&c2).await.unwrap();
    let q = probe("attic");
    s.create_probe(&q, &digest(2)).await.unwrap();
    let c3 = connection(&q.id, "zz");
    s.create_connection(&c3).await.unwrap();

    let all: Vec<String> = s
        .connections(None)
        .await
        .unwrap()
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    assert_eq!(
        all,
        ["zz", "backup", "wan1"],
        "by probe name, then connection name"
    );
    let mine: Vec<String> = s
        .connections(Some(&p.id))
        .await
        .unwrap()
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    assert_eq!(mine, ["backup", "wan1"]);

    c.name = Name::parse("name", "wan-primary").unwrap();
    c.isp = "Other".into();
    s.update_connection(&c).await.unwrap();
    assert_eq!(s.connection(&c.id).await.unwrap().unwrap(), c);

    // The owner is immutable: an update naming another probe finds nothing.
    let mut moved = c.clone();
    moved.probe_id = q.id.clone();
    assert!(matches!(
        s.update_connection(&moved).await,
        Err(StorageError::NotFound { .. })
    ));

    s.set_connection_enabled(&c.id, false).await.unwrap();
    assert!(!s.connection(&c.id).await.unwrap().unwrap().enabled);
    let ghost = ConnectionId::parse(&new_id()).unwrap();
    assert!(matches!(
        s.set_connection_enabled(&ghost, true).await,
        Err(StorageError::NotFound { .. })
    ));
}

pub(crate) async fn deleting_a_connection_deletes_its_history(s: &dyn Storage) {
    let (_, c) = seeded(s).await;
    let m = measurement(&c, at(10), Some("a"), observation(900.0, 10.0));
    let id = m.id.clone();
    record(s, m).await;
    s.request_run(RunScope::Connection(&c.id), None, at(11))
        .await
        .unwrap();
    s.delete_connection(&c.id).await.unwrap();
    assert!(s.measurement(&id).await.unwrap().is_none());
    assert!(s.connection_state(&c.id).await.unwrap().is_none());
    assert!(s.run_state(&c.id).await.unwrap().is_none());
    assert!(matches!(
        s.delete_connection(&c.id).await,
        Err(StorageError::NotFound { .. })
    ));
}

pub(crate) async fn record_judges_with_current_thresholds_and_updates_state(s: &dyn Storage) {
    let (_, mut c) = seeded(s).await;
    let slow = measurement(&c, at(100), Some("a"), observation(300.0, 150.0));
    let out = record(s, slow.clone()).await;
    let RecordOutcome::Recorded {
        measurement: stored,
        edge,
    } = out
    else {
        panic!("expected Recorded");
    };
    assert_eq!(edge, None);
    assert_eq!(
        stored.verdict.breaches,
        vec![Breach::DownloadBelow, Breach::PingHigh]
    );
    let mut expected = slow.clone();
    expected.verdict = stored.verdict.clone();
    assert_eq!(s.measurement(&slow.id).await.unwrap().unwrap(), expected);

    let state = s.connection_state(&c.id).await.unwrap().unwrap();
    let last = state.last.unwrap();
    assert_eq!(last.completed_at, at(100));
    assert_eq!(last.pool_entry, Some(PoolEntry::parse("a").unwrap()));
    assert_eq!(state.history.newest_first(), [HealthSample::Unhealthy]);
    assert_eq!(state.last_completed_at, Some(at(100)));

    // Loosen the thresholds: the stored verdict stays; a new result is judged anew.
    c.thresholds = Thresholds::new(0.1, 0.1, None, None, None).unwrap();
    s.update_connection(&c).await.unwrap();
    assert!(
        !s.measurement(&slow.id)
            .await
            .unwrap()
            .unwrap()
            .verdict
            .healthy()
    );
    let again = measurement(&c, at(200), Some("b"), observation(300.0, 150.0));
    assert!(record(s, again).await.measurement().verdict.healthy());

    // A late result from the past is stored but moves neither the clock nor the history.
    let late = measurement(&c, at(50), Some("c"), failed());
    record(s, late).await;
    let state = s.connection_state(&c.id).await.unwrap().unwrap();
    assert_eq!(state.last.unwrap().completed_at, at(200));
    assert_eq!(state.history.encode(), "HU");
    assert_eq!(state.last_completed_at, Some(at(200)));
}

pub(crate) async fn record_is_idempotent_on_the_result_id(s: &dyn Storage) {
    let (_, c) = seeded(s).await;
    let m = measurement(&c, at(10), Some("a"), observation(900.0, 10.0));
    assert!(matches!(
        record(s, m.clone()).await,
        RecordOutcome::Recorded { .. }
    ));
    let second = record(s, m.clone()).await;
    assert!(matches!(second, RecordOutcome::AlreadyRecorded(_)));
    assert_eq!(second.measurement().id, m.id);
    let state = s.connection_state(&c.id).await.unwrap().unwrap();
    assert_eq!(state.history.encode(), "H", "state advanced once");
    let page = s
        .measurements(
            &MeasurementFilter::default(),
            MeasurementSort::default(),
            100,
            None,
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);

    // The same id for another connection is a conflict, not a silent overwrite.
    let other = connection(&c.probe_id, "wan2");
    s.create_connection(&other).await.unwrap();
    let mut clash = measurement(&other, at(20), None, observation(900.0, 10.0));
    clash.id = m.id.clone();
    let err = s
        .record(
            IncomingResult { measurement: clash },
            &AlertPolicy::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Conflict(_)), "{err}");
}

pub(crate) async fn record_of_unknown_connection_is_not_found(s: &dyn Storage) {
    let (p, _) = seeded(s).await;
    let ghost = connection(&p.id, "ghost");
    let m = measurement(&ghost, at(10), None, observation(900.0, 10.0));
    let err = s
        .record(IncomingResult { measurement: m }, &AlertPolicy::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::NotFound {
                what: "connection",
                ..
            }
        ),
        "{err}"
    );
}

pub(crate) async fn failed_results_are_stored_with_their_class(s: &dyn Storage) {
    let (_, c) = seeded(s).await;
    let mut obs = Observation::failed(
        FailureClass::NoServers,
        "No servers defined (NoServersException)",
    );
    obs.server.id = Some("99".into());
    obs.isp = Some("DT".into());
    let m = measurement(&c, at(10), Some("b"), obs.clone());
    let stored = record(s, m.clone()).await;
    assert_eq!(
        stored.measurement().verdict.breaches,
        vec![Breach::TestFailed]
    );
    let back = s.measurement(&m.id).await.unwrap().unwrap();
    assert_eq!(back.observation, obs);
    assert_eq!(back.raw, m.raw);
    let state = s.connection_state(&c.id).await.unwrap().unwrap();
    assert_eq!(
        state.last_completed_at, None,
        "a failure is not a completed test"
    );
    assert_eq!(
        state.last.unwrap().pool_entry,
        Some(PoolEntry::parse("b").unwrap()),
        "rotation continues"
    );
}

pub(crate) async fn alert_edges_are_claimed_once(s: &dyn Storage) {
    let (_, c) = seeded(s).await;
    let mut edges = Vec::new();
    for (i, obs) in [
        failed(),
        observation(100.0, 10.0),
        failed(),
        failed(),
        observation(950.0, 5.0),
    ]
    .into_iter()
    .enumerate()
    {
        let m = measurement(&c, at(i as i64 * 60), None, obs);
        let first = record(s, m.clone()).await;
        let RecordOutcome::Recorded { edge, .. } = first else {
            panic!()
        };
        edges.push(edge);
        // A duplicate push never raises the edge again.
        assert!(matches!(
            record(s, m).await,
            RecordOutcome::AlreadyRecorded(_)
        ));
    }
    assert_eq!(
        edges,
        [
            None,
            None,
            Some(AlertEdge::Alert { consecutive: 3 }),
            None,
            Some(AlertEdge::Recovery { consecutive: 1 })
        ]
    );
    let state = s.connection_state(&c.id).await.unwrap().unwrap();
    assert!(!state.alert.alerting);
}

pub(crate) async fn run_now_requests_flow(s: &dyn Storage) {
    let (p, c) = seeded(s).await;
    assert!(s.run_state(&c.id).await.unwrap().is_none());
    let pin = PoolEntry::parse("c").unwrap();
    s.request_run(RunScope::Connection(&c.id), Some(&pin), at(0))
        .await
        .unwrap();
    let st = s.run_state(&c.id).await.unwrap().unwrap();
    assert_eq!(
        (st.phase, st.pinned.clone()),
        (RunPhase::Queued, Some(pin.clone()))
    );

    let taken = s.take_run_requests(&p.id, at(5)).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].connection_id, c.id);
    assert_eq!(taken[0].request.pinned, Some(pin));
    assert!(
        s.take_run_requests(&p.id, at(6)).await.unwrap().is_empty(),
        "taken once"
    );
    assert_eq!(
        s.run_state(&c.id).await.unwrap().unwrap().phase,
        RunPhase::Running
    );

    let mut m = measurement(&c, at(30), Some("c"), observation(900.0, 10.0));
    m.scheduled = false;
    record(s, m).await;
    let st = s.run_state(&c.id).await.unwrap().unwrap();
    assert_eq!(st.phase, RunPhase::Done);
    assert_eq!(st.updated_at, at(31));

    // Disabling a connection cancels its queued request; a disabled one cannot be asked.
    s.request_run(RunScope::Connection(&c.id), None, at(40))
        .await
        .unwrap();
    s.set_connection_enabled(&c.id, false).await.unwrap();
    assert_eq!(
        s.run_state(&c.id).await.unwrap().unwrap().phase,
        RunPhase::Cancelled
    );
    assert!(s.take_run_requests(&p.id, at(41)).await.unwrap().is_empty());
    let err = s
        .request_run(RunScope::Connection(&c.id), None, at(42))
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Conflict(_)), "{err}");
    let ghost = ConnectionId::parse(&new_id()).unwrap();
    assert!(matches!(
        s.request_run(RunScope::Connection(&ghost), None, at(43))
            .await,
        Err(StorageError::NotFound { .. })
    ));
}

pub(crate) async fn run_now_for_all_connections(s: &dyn Storage) {
    let (p, c) = seeded(s).await;
    let c2 = connection(&p.id, "wan2");
    s.create_connection(&c2).await.unwrap();
    let mut off = connection(&p.id, "off");
    off.enabled = false;
    s.create_connection(&off).await.unwrap();
    let pin = PoolEntry::parse("a").unwrap();
    assert!(matches!(
        s.request_run(RunScope::All, Some(&pin), at(0)).await,
        Err(StorageError::Conflict(_))
    ));
    let mut queued = s.request_run(RunScope::All, None, at(0)).await.unwrap();
    queued.sort();
    let mut want = vec![c.id.clone(), c2.id.clone()];
    want.sort();
    assert_eq!(queued, want);
    assert_eq!(s.take_run_requests(&p.id, at(1)).await.unwrap().len(), 2);
}

pub(crate) async fn scheduling_entries_read_state_not_history(s: &dyn Storage) {
    let (p, c) = seeded(s).await;
    let mut off = connection(&p.id, "a-off");
    off.enabled = false;
    s.create_connection(&off).await.unwrap();
    record(
        s,
        measurement(&c, at(10), Some("b"), observation(900.0, 10.0)),
    )
    .await;
    let entries = s.scheduling_entries(&p.id).await.unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].connection, off);
    assert_eq!(entries[1].connection, c);
    assert_eq!(entries[1].state.history.encode(), "H");
    assert_eq!(
        entries[1].state.last.as_ref().unwrap().pool_entry,
        Some(PoolEntry::parse("b").unwrap())
    );
    assert!(entries[0].state.last.is_none());
    assert!(!entries[1].run_queued);
    s.request_run(RunScope::Connection(&c.id), None, at(20))
        .await
        .unwrap();
    let entries = s.scheduling_entries(&p.id).await.unwrap();
    assert!(
        entries[1].run_queued,
        "a queued request shows without taking it"
    );
    s.take_run_requests(&p.id, at(21)).await.unwrap();
    assert!(!s.scheduling_entries(&p.id).await.unwrap()[1].run_queued);
}

pub(crate) async fn measurement_filters(s: &dyn Storage) {
    let (p, c) = seeded(s).await;
    let c2 = connection(&p.id, "wan2");
    s.create_connection(&c2).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..6 {
        let conn = if i % 2 == 0 { &c } else { &c2 };
        let obs = match i {
            0 | 1 => observation(900.0, 10.0),
            2 => observation(100.0, 10.0),
            3 => failed(),
            _ => {
                let mut o = observation(800.0, 12.0);
                o.server.id = Some("555".into());
                o
            }
        };
        let mut m = measurement(conn, at(i * 100), None, obs);
        m.scheduled = i != 5;
        ids.push(m.id.clone());
        record(s, m).await;
    }
    let list = |f: MeasurementFilter| async move {
        s.measurements(&f, MeasurementSort::CompletedAsc, 100, None)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|m| m.id)
            .collect::<Vec<_>>()
    };
    let pick = |idx: &[usize]| {
        idx.iter()
            .map(|i| ids[*i].clone())
            .collect::<Vec<ResultId>>()
    };
    assert_eq!(
        list(MeasurementFilter {
            connection: Some(c.id.clone()),
            ..Default::default()
        })
        .await,
        pick(&[0, 2, 4])
    );
    assert_eq!(
        list(MeasurementFilter {
            completed: Some(false),
            ..Default::default()
        })
        .await,
        pick(&[3])
    );
    assert_eq!(
        list(MeasurementFilter {
            healthy: Some(false),
            ..Default::default()
        })
        .await,
        pick(&[2, 3])
    );
    assert_eq!(
        list(MeasurementFilter {
            scheduled: Some(false),
            ..Default::default()
        })
        .await,
        pick(&[5])
    );
    assert_eq!(
        list(MeasurementFilter {
            server_id: Some("555".into()),
            ..Default::default()
        })
        .await,
        pick(&[4, 5])
    );
    assert_eq!(
        list(MeasurementFilter {
            since: Some(at(100)),
            until: Some(at(300)),
            ..Default::default()
        })
        .await,
        pick(&[1, 2]),
        "half-open window"
    );
    assert_eq!(
        list(MeasurementFilter {
            probe: Some(p.id.clone()),
            ..Default::default()
        })
        .await
        .len(),
        6
    );
}

pub(crate) async fn every_sort_order_pages_without_gaps_or_repeats(s: &dyn Storage) {
    let (_, c) = seeded(s).await;
    let mut all = Vec::new();
    for i in 0..23_i64 {
        // Repeated speeds and times make ties; failures give NULL figures.
        let obs = if i % 5 == 0 {
            failed()
        } else {
            let mut o = observation(100.0 * (i % 4) as f64 + 100.0, (i % 3) as f64 + 5.0);
            o.packet_loss_percent = if i % 2 == 0 {
                Some((i % 3) as f64)
            } else {
                None
            };
            o.jitter_ms = Some((i % 6) as f64);
            o
        };
        let m = measurement(&c, at((i / 2) * 60), None, obs);
        all.push(m.id.clone());
        record(s, m).await;
    }
    all.sort();
    for sort in MeasurementSort::ALL {
        let whole = s
            .measurements(&MeasurementFilter::default(), sort, 1000, None)
            .await
            .unwrap();
        assert!(whole.next_cursor.is_none());
        let whole_ids: Vec<ResultId> = whole.items.iter().map(|m| m.id.clone()).collect();
        let mut paged = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = s
                .measurements(&MeasurementFilter::default(), sort, 4, cursor.as_deref())
                .await
                .unwrap();
            assert!(page.items.len() <= 4);
            paged.extend(page.items.iter().map(|m| m.id.clone()));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(
            paged,
            whole_ids,
            "{} pages match the whole list",
            sort.as_str()
        );
        let mut sorted = paged.clone();
        sorted.sort();
        assert_eq!(sorted, all, "{} holds every row once", sort.as_str());
        // NULLs last, and the key order holds.
        let key = |m: &netpulse_domain::model::Measurement| match sort {
            MeasurementSort::DownloadAsc | MeasurementSort::DownloadDesc => {
                m.observation.download_bps
            }
            MeasurementSort::PingAsc | MeasurementSort::PingDesc => m.observation.ping_ms,
            MeasurementSort::LossAsc | MeasurementSort::LossDesc => {
                m.observation.packet_loss_percent
            }
            MeasurementSort::UploadAsc | MeasurementSort::UploadDesc => m.observation.upload_bps,
            MeasurementSort::JitterAsc | MeasurementSort::JitterDesc => m.observation.jitter_ms,
            _ => Some(m.completed_at.unix_millis() as f64),
        };
        let keys: Vec<Option<f64>> = whole.items.iter().map(key).collect();
        let first_null = keys.iter().position(Option::is_none).unwrap_or(keys.len());
        assert!(
            keys[first_null..].iter().all(Option::is_none),
            "{} NULLs last",
            sort.as_str()
        );
        let present: Vec<f64> = keys[..first_null].iter().map(|k| k.unwrap()).collect();
        let descending = sort.as_str().ends_with("_desc");
        assert!(
            present.windows(2).all(|w| if descending {
                w[0] >= w[1]
            } else {
                w[0] <= w[1]
            }),
            "{} is ordered",
            sort.as_str()
        );
    }
}

pub(crate) async fn bad_cursors_are_rejected(s: &dyn Storage) {
    seeded(s).await;
    for bad in [
        "",
        "nonsense",
        "completed_at_desc.zz.1.x",
        "download_desc.0000000000000000.1.not-a-uuid",
    ] {
        let err = s
            .measurements(
                &MeasurementFilter::default(),
                MeasurementSort::CompletedDesc,
                10,
                Some(bad),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, StorageError::Invalid(ref v) if v.field == "cursor"),
            "{bad:?}: {err}"
        );
    }
}

pub(crate) async fn reparse_replaces_typed_columns(s: &dyn Storage) {
    let (_, c) = seeded(s).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let m = measurement(&c, at(i * 10), None, observation(500.0, 10.0));
        ids.push(m.id.clone());
        record(s, m).await;
    }
    ids.sort();
    let first = s.raw_outputs(None, 3).await.unwrap();
    assert_eq!(
        first.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        ids[..3]
    );
    let rest = s.raw_outputs(Some(&first[2].id), 10).await.unwrap();
    assert_eq!(
        rest.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        ids[3..]
    );
    assert_eq!(first[0].engine, Engine::Ookla);

    let mut fixed = observation(512.5, 9.5);
    fixed.packet_loss_percent = Some(0.25);
    s.replace_observation(&ids[0], &fixed).await.unwrap();
    let back = s.measurement(&ids[0]).await.unwrap().unwrap();
    assert_eq!(back.observation, fixed);
    assert!(matches!(
        s.replace_observation(&ResultId::parse(&new_id()).unwrap(), &fixed)
            .await,
        Err(StorageError::NotFound { .. })
    ));
}

pub(crate) async fn users_settings_and_tokens(s: &dyn Storage) {
    assert_eq!(s.user_count().await.unwrap(), 0);
    let u = User {
        id: UserId::parse(&new_id()).unwrap(),
        email: "Admin@Example.org".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$abc$def".into(),
        created_at: at(0),
        role: netpulse_domain::access::Role::Admin,
        disabled: false,
        display_name: None,
    };
    s.create_user(&u).await.unwrap();
    let back = s.user_by_email("admin@example.ORG").await.unwrap().unwrap();
    assert_eq!(back.email, "admin@example.org");
    assert_eq!(back.id, u.id);
    let dup = User {
        id: UserId::parse(&new_id()).unwrap(),
        email: "ADMIN@example.org".into(),
        ..u.clone()
    };
    assert!(matches!(
        s.create_user(&dup).await,
        Err(StorageError::Conflict(_))
    ));
    s.set_password_hash(&u.id, "new-hash").await.unwrap();
    assert_eq!(
        s.user_by_email("admin@example.org")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "new-hash"
    );
    assert_eq!(s.user_count().await.unwrap(), 1);

    assert_eq!(s.setting("general.site_name").await.unwrap(), None);
    s.set_setting("general.site_name", "Home", at(0))
        .await
        .unwrap();
    s.set_setting("general.site_name", "Office", at(1))
        .await
        .unwrap();
    assert_eq!(
        s.setting("general.site_name").await.unwrap().as_deref(),
        Some("Office")
    );

    let t = ApiToken {
        id: ApiTokenId::parse(&new_id()).unwrap(),
        name: "grafana".into(),
        created_at: at(0),
        last_used_at: None,
        user_id: Some(u.id.clone()),
        scopes: vec![netpulse_domain::access::Permission::ResultsRead],
        expires_at: Some(at(9)),
        last_used_ip: None,
    };
    s.create_api_token(&t, &digest(3)).await.unwrap();
    assert_eq!(
        s.api_token_by_digest(&digest(3)).await.unwrap(),
        Some(t.clone())
    );
    assert_eq!(s.api_token_by_digest(&digest(4)).await.unwrap(), None);
    assert_eq!(s.api_tokens().await.unwrap(), vec![t.clone()]);
    s.revoke_api_token(&t.id).await.unwrap();
    assert_eq!(s.api_token_by_digest(&digest(3)).await.unwrap(), None);
    assert!(matches!(
        s.revoke_api_token(&t.id).await,
        Err(StorageError::NotFound { .. })
    ));
    s.ping().await.unwrap();
}

/// 8 concurrent writers, each recording 25 results (half on one shared connection, half on its
/// own), lose nothing: every row is stored and the shared connection's state counted each one.
pub(crate) async fn concurrent_writers_lose_nothing(s: &dyn Storage) {
    let (p, shared) = seeded(s).await;
    let mut own = Vec::new();
    for i in 0..8 {
        let c = connection(&p.id, &format!("own{i}"));
        s.create_connection(&c).await.unwrap();
        own.push(c);
    }
    let futures = own.iter().enumerate().map(|(w, c)| {
        let shared = shared.clone();
        async move {
            for i in 0..25_i64 {
                let target = if i % 2 == 0 { &shared } else { c };
                let m = measurement(
                    target,
                    at(w as i64 * 1000 + i),
                    None,
                    observation(900.0, 10.0),
                );
                s.record(IncomingResult { measurement: m }, &AlertPolicy::default())
                    .await
                    .expect("no write may fail");
            }
        }
    });
    futures_join_all(futures).await;
    let page = s
        .measurements(
            &MeasurementFilter::default(),
            MeasurementSort::default(),
            1000,
            None,
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 200);
    let shared_rows = s
        .measurements(
            &MeasurementFilter {
                connection: Some(shared.id.clone()),
                ..Default::default()
            },
            MeasurementSort::default(),
            1000,
            None,
        )
        .await
        .unwrap();
    assert_eq!(shared_rows.items.len(), 8 * 13);
    let state = s.connection_state(&shared.id).await.unwrap().unwrap();
    // Writers race, so only results newer than every one applied before them join the
    // history; the 13 of the last writer always are (its times are the newest, in order).
    assert!(state.history.newest_first().len() >= 13, "{state:?}");
    assert_eq!(state.last.unwrap().completed_at, at(7 * 1000 + 24));
}

/// Runs futures concurrently on the current task (no extra dependency).
pub(crate) async fn futures_join_all<F: std::future::Future<Output = ()>>(
    futures: impl IntoIterator<Item = F>,
) {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    std::future::poll_fn(move |cx| {
        pinned.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if pinned.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}
