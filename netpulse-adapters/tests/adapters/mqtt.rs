//! The MQTT publisher against a real `mosquitto` (started by the test on a loopback port with a
//! password file), observed by a real subscriber: QoS 1, retained messages, the availability
//! topic (`online` after connect, `offline` as the last will when the connection dies and on a
//! clean shutdown), user/password auth, and a queue that drops instead of blocking when the
//! broker is away.

use std::time::{Duration, Instant};

use netpulse_adapters::mqtt::{MqttPublisher, MqttSettings, OFFLINE, ONLINE};
use netpulse_adapters::testing_mqtt::{Mosquitto, PASSWORD, Subscriber, USER};

fn settings(port: u16, password: &str) -> MqttSettings {
    MqttSettings {
        host: "127.0.0.1".into(),
        port,
        tls: None,
        credentials: Some((USER.into(), password.into())),
        client_id: format!("netpulse-test-{port}-{password}"),
        availability_topic: "np/status".into(),
        keep_alive: Duration::from_secs(5),
        queue: 64,
    }
}

async fn wait_connected(p: &MqttPublisher) {
    let mut rx = p.connected();
    tokio::time::timeout(Duration::from_secs(10), rx.wait_for(|n| *n > 0))
        .await
        .expect("connected within 10 s")
        .unwrap();
}

#[tokio::test]
async fn publishes_qos1_retained_and_live_messages_with_user_and_password() {
    let broker = Mosquitto::start();
    let publisher = MqttPublisher::start(&settings(broker.port, PASSWORD));
    wait_connected(&publisher).await;
    assert!(publisher.publish("np/state", r#"{"v":1}"#, true));
    // A retained state reaches a subscriber that comes later, flagged retained, at QoS 1.
    let deadline = Instant::now() + Duration::from_secs(10);
    while publisher.stats().acked() < 1 {
        assert!(Instant::now() < deadline, "no PUBACK");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let late = Subscriber::connect(&broker, "np/#").await;
    let state = late.wait_topic("np/state").await;
    assert_eq!(
        (state.payload.as_str(), state.qos, state.retain),
        (r#"{"v":1}"#, 1, true)
    );
    let status = late.wait_topic("np/status").await;
    assert_eq!((status.payload.as_str(), status.retain), (ONLINE, true));
    // A live (not retained) message reaches the subscriber at QoS 1, not flagged retained.
    assert!(publisher.publish("np/event", "hello", false));
    let event = late.wait_topic("np/event").await;
    assert_eq!(
        (event.payload.as_str(), event.qos, event.retain),
        ("hello", 1, false)
    );
    // Not retained: a new subscriber does not get it, but gets the retained state.
    let later = Subscriber::connect(&broker, "np/#").await;
    later.wait_topic("np/state").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(later.received().iter().all(|r| r.topic != "np/event"));
}

#[tokio::test]
async fn the_last_will_marks_the_server_offline_when_its_connection_dies() {
    let broker = Mosquitto::start();
    let watcher = Subscriber::connect(&broker, "np/status").await;
    let publisher = MqttPublisher::start(&settings(broker.port, PASSWORD));
    wait_connected(&publisher).await;
    watcher.wait_for("online", |r| r.payload == ONLINE).await;
    // Dropping the publisher aborts its task and closes the socket without DISCONNECT, as a
    // killed process does: the broker publishes the will.
    drop(publisher);
    let will = watcher.wait_for("the will", |r| r.payload == OFFLINE).await;
    assert_eq!(will.topic, "np/status");
    // Retained: a subscriber arriving later sees the server offline.
    let later = Subscriber::connect(&broker, "np/status").await;
    let seen = later.wait_topic("np/status").await;
    assert_eq!((seen.payload.as_str(), seen.retain), (OFFLINE, true));
}

#[tokio::test]
async fn a_clean_shutdown_publishes_offline_too() {
    let broker = Mosquitto::start();
    let watcher = Subscriber::connect(&broker, "np/status").await;
    let publisher = MqttPublisher::start(&settings(broker.port, PASSWORD));
    wait_connected(&publisher).await;
    watcher.wait_for("online", |r| r.payload == ONLINE).await;
    publisher.shutdown(Duration::from_secs(5)).await;
    watcher.wait_for("offline", |r| r.payload == OFFLINE).await;
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_publishing_never_blocks() {
    let broker = Mosquitto::start();
    let watcher = Subscriber::connect(&broker, "np/#").await;
    let publisher = MqttPublisher::start(&settings(broker.port, "wrong"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        publisher.stats().connects(),
        0,
        "the broker refused the password"
    );
    // The queue fills and further messages are dropped at once.
    let started = Instant::now();
    let accepted = (0..10_000)
        .filter(|i| publisher.publish("np/x", format!("{i}"), false))
        .count();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "publish blocked"
    );
    assert!(accepted <= 64 + 1, "bounded queue: {accepted} accepted");
    assert!(publisher.stats().dropped() >= 10_000 - 65);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(watcher.received().iter().all(|r| r.topic != "np/x"));
}

#[tokio::test]
async fn a_broker_that_comes_back_gets_the_server_online_again() {
    let mut broker = Mosquitto::start();
    let port = broker.port;
    let publisher = MqttPublisher::start(&settings(port, PASSWORD));
    wait_connected(&publisher).await;
    let mut connects = publisher.connected();
    broker.kill();
    // Publishing while the broker is away returns at once.
    let started = Instant::now();
    for i in 0..1000 {
        publisher.publish("np/x", format!("{i}"), false);
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    drop(broker);
    let broker = Mosquitto::start_on(port);
    tokio::time::timeout(Duration::from_secs(40), connects.wait_for(|n| *n >= 2))
        .await
        .expect("reconnected within 40 s")
        .unwrap();
    let watcher = Subscriber::connect(&broker, "np/status").await;
    watcher.wait_for("online", |r| r.payload == ONLINE).await;
}
