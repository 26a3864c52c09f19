//! The long-poll wake-up rows: a version per probe that every signal for it (or for every
//! probe) moves, and on PostgreSQL a notice each listener receives.

use std::time::Duration;

use netpulse_domain::id::ProbeId;
use netpulse_ports::storage::Storage;
use netpulse_ports::work_signal::WorkNotice;

pub(crate) async fn work_signals_move_the_probes_version_and_notify(s: &dyn Storage) {
    let a = ProbeId::parse("11111111-1111-4111-8111-111111111111").unwrap();
    let b = ProbeId::parse("22222222-2222-4222-8222-222222222222").unwrap();
    assert_eq!(s.work_version(&a).await.unwrap(), 0);
    let mut listener = s.listen_work().await.unwrap();
    s.signal_work(&WorkNotice::Probe(a.clone())).await.unwrap();
    let after_a = s.work_version(&a).await.unwrap();
    assert!(after_a > 0);
    assert_eq!(s.work_version(&b).await.unwrap(), 0, "another probe's row");
    s.signal_work(&WorkNotice::All).await.unwrap();
    assert!(s.work_version(&a).await.unwrap() > after_a);
    assert!(
        s.work_version(&b).await.unwrap() > 0,
        "every probe's signal"
    );
    if let Some(listener) = listener.as_mut() {
        assert_eq!(next(listener.as_mut()).await, WorkNotice::Probe(a.clone()));
        assert_eq!(next(listener.as_mut()).await, WorkNotice::All);
    }
}

async fn next(l: &mut dyn netpulse_ports::work_signal::WorkListener) -> WorkNotice {
    tokio::time::timeout(Duration::from_secs(5), l.next())
        .await
        .expect("a notice")
        .unwrap()
}
