//! The security log: repeated failures of one account from one network within one clock hour
//! are one event with a count (a stranger's guesses must not grow the table without bound),
//! everything else is an event of its own, and housekeeping forgets events past
//! `CUSTADMIN_EVENT_RETENTION_DAYS`. Clients are played from many addresses through a trusted
//! proxy; time is the injected clock.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use crate::helpers::{event_kinds, session_from, times_recorded, Reply, TestApp, PASSWORD};
use crate::on_both_databases;

const BEHIND_PROXY: &[(&str, &str)] = &[
    ("CUSTADMIN_TRUSTED_PROXIES", "127.0.0.1/32"),
    // Bursts here test the event rows, not the hashing queue's overload answer.
    ("CUSTADMIN_HASHING_QUEUE_LIMIT", "1000"),
];

on_both_databases!(
    with BEHIND_PROXY;
    twenty_five_wrong_passwords_from_one_network_in_one_hour_are_one_event,
    each_network_has_its_own_event,
    the_next_hour_starts_a_new_event,
    lock_outs_from_one_network_in_one_hour_are_one_event_too,
    parallel_wrong_passwords_are_all_counted_on_one_event,
);

on_both_databases!(events_older_than_the_default_400_days_are_pruned);

on_both_databases!(
    with &[("CUSTADMIN_EVENT_RETENTION_DAYS", "30")];
    a_repeated_failure_is_kept_until_its_last_time_is_past_the_retention,
);

const OFFICE: &str = "192.0.2.10";
const OWNER_HOME: &str = "192.0.2.200";
const STRANGER: &str = "203.0.113.99";

/// Moves the clock forward to `offset` from the start of a clock hour (UTC) an hour or two
/// ahead, so that a test's attempts fall in the hours it means. Answers the time set.
fn at_next_hour(app: &TestApp, offset: TimeDelta) -> DateTime<Utc> {
    let seconds = app.state.now().timestamp();
    let hour =
        DateTime::from_timestamp(seconds - seconds.rem_euclid(3600) + 2 * 3600, 0).expect("a time");
    app.clock.set(hour + offset);
    hour + offset
}

async fn wrong_password(app: &TestApp, ip: &str, username: &str) {
    app.login_from(ip, username, "wrong password", None)
        .await
        .assert_problem(401, "invalid_credentials");
}

/// The owner signs in from home and reads the log (newest first); the sign-in is its first
/// event.
async fn owner_reads_events(app: &TestApp, username: &str) -> Reply {
    let session = session_from(&app.login_from(OWNER_HOME, username, PASSWORD, None).await);
    let events = app
        .api
        .events_page(&session.access_token, "limit=200")
        .await;
    events.assert_ok();
    events
}

fn events_of<'a>(events: &'a Reply, kind: &str) -> Vec<&'a Value> {
    events.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|event| event["kind"] == kind)
        .collect()
}

fn time(event: &Value, field: &str) -> DateTime<Utc> {
    event[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {event}"))
        .parse()
        .expect("an RFC 3339 time")
}

async fn twenty_five_wrong_passwords_from_one_network_in_one_hour_are_one_event(app: TestApp) {
    let start = at_next_hour(&app, TimeDelta::minutes(1));
    app.register("olivia").await;
    // Someone in the office keeps getting the password wrong; the owner signs in from there
    // between (which starts the network's count again, so no lock-out refuses a guess unread).
    let mut first_failure = None;
    let mut last_failure = start;
    for failures in [9, 9, 7] {
        for _ in 0..failures {
            app.clock.advance(TimeDelta::seconds(20));
            last_failure = app.state.now();
            first_failure.get_or_insert(last_failure);
            wrong_password(&app, OFFICE, "olivia").await;
        }
        app.clock.advance(TimeDelta::seconds(20));
        session_from(&app.login_from(OFFICE, "olivia", PASSWORD, None).await);
    }
    assert!(last_failure - start < TimeDelta::minutes(59));

    let events = owner_reads_events(&app, "olivia").await;
    assert_eq!(
        event_kinds(&events),
        [
            "login_succeeded",
            "login_succeeded",
            "login_succeeded",
            "login_succeeded",
            "login_failed"
        ],
        "every sign-in is an event of its own; the failures are one, where the first happened"
    );
    let failed = events_of(&events, "login_failed")[0];
    assert_eq!(failed["count"], 25);
    assert_eq!(time(failed, "at"), first_failure.unwrap());
    assert_eq!(time(failed, "last_at"), last_failure);
    assert_eq!(failed["ip"], OFFICE);
    for success in events_of(&events, "login_succeeded") {
        assert_eq!(success["count"], 1);
        assert_eq!(time(success, "last_at"), time(success, "at"));
    }
}

async fn each_network_has_its_own_event(app: TestApp) {
    at_next_hour(&app, TimeDelta::minutes(1));
    app.register("paul").await;
    for _ in 0..3 {
        wrong_password(&app, "198.51.100.7", "paul").await;
    }
    // Two addresses of one IPv6 /64 are one network, as throttling counts them.
    for address in ["2001:db8:1:2::1", "2001:db8:1:2::ffff"] {
        app.clock.advance(TimeDelta::seconds(10));
        wrong_password(&app, address, "paul").await;
        wrong_password(&app, address, "paul").await;
    }

    let events = owner_reads_events(&app, "paul").await;
    let failed = events_of(&events, "login_failed");
    assert_eq!(failed.len(), 2, "{}", events.body);
    assert_eq!(failed[0]["count"], 4);
    assert_eq!(
        failed[0]["ip"], "2001:db8:1:2::ffff",
        "the latest attempt's address"
    );
    assert_eq!(failed[1]["count"], 3);
    assert_eq!(failed[1]["ip"], "198.51.100.7");
}

async fn the_next_hour_starts_a_new_event(app: TestApp) {
    let hour = at_next_hour(&app, TimeDelta::seconds(-60));
    app.register("quinn").await;
    wrong_password(&app, STRANGER, "quinn").await;
    app.clock.advance(TimeDelta::seconds(59));
    wrong_password(&app, STRANGER, "quinn").await;
    app.clock.advance(TimeDelta::seconds(1));
    wrong_password(&app, STRANGER, "quinn").await;

    let events = owner_reads_events(&app, "quinn").await;
    let failed = events_of(&events, "login_failed");
    assert_eq!(failed.len(), 2, "{}", events.body);
    assert_eq!(failed[0]["count"], 1);
    assert_eq!(time(failed[0], "at"), hour + TimeDelta::seconds(60));
    assert_eq!(failed[1]["count"], 2);
    assert_eq!(time(failed[1], "at"), hour);
    assert_eq!(time(failed[1], "last_at"), hour + TimeDelta::seconds(59));
}

async fn lock_outs_from_one_network_in_one_hour_are_one_event_too(app: TestApp) {
    at_next_hour(&app, TimeDelta::minutes(1));
    app.register("rita").await;
    for _ in 0..10 {
        wrong_password(&app, STRANGER, "rita").await;
    }
    app.login_from(STRANGER, "rita", "wrong password", None)
        .await
        .assert_problem(429, "too_many_attempts");
    app.clock.advance(TimeDelta::seconds(31));
    wrong_password(&app, STRANGER, "rita").await;

    let events = owner_reads_events(&app, "rita").await;
    assert_eq!(
        event_kinds(&events),
        ["login_succeeded", "account_locked", "login_failed"]
    );
    let locked = &events.body["events"][1];
    assert_eq!(locked["count"], 2);
    assert_eq!(
        locked["detail"], "11 consecutive failures; locked for 60 seconds",
        "the latest lock-out's detail"
    );
    assert_eq!(
        events.body["events"][2]["count"], 11,
        "an attempt refused by the lock is no guess and not recorded"
    );
}

async fn parallel_wrong_passwords_are_all_counted_on_one_event(app: TestApp) {
    at_next_hour(&app, TimeDelta::minutes(1));
    app.register("sara").await;
    // Twenty known devices in one office: each has its own counter, so all twenty wrong
    // passwords are checked and recorded at once, on the same event row.
    let mut devices = Vec::new();
    for _ in 0..20 {
        let signed_in = app.login_from(OFFICE, "sara", PASSWORD, None).await;
        session_from(&signed_in);
        devices.push(signed_in.body["device_token"].as_str().unwrap().to_string());
    }
    let attempts = devices
        .iter()
        .map(|device| app.login_from(OFFICE, "sara", "wrong password", Some(device)));
    for reply in futures::future::join_all(attempts).await {
        reply.assert_problem(401, "invalid_credentials");
    }

    let events = owner_reads_events(&app, "sara").await;
    let failed = events_of(&events, "login_failed");
    assert_eq!(failed.len(), 1, "one row, never two: {}", events.body);
    assert_eq!(failed[0]["count"], 20, "no lost update");
    assert_eq!(times_recorded(&events, "login_succeeded"), 21);
}

/// The ids of the events in a `GET /account/events` reply.
fn ids(events: &Reply) -> Vec<i64> {
    events.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|event| event["id"].as_i64().expect("id"))
        .collect()
}

async fn events_older_than_the_default_400_days_are_pruned(app: TestApp) {
    app.register("tom").await;
    app.api.login("tom", "wrong password").await;
    let old = ids(&owner_reads_events(&app, "tom").await);
    assert_eq!(old.len(), 2, "a failure and a sign-in");

    app.clock.advance(TimeDelta::days(200));
    app.api.login("tom", "wrong password").await;
    let young: Vec<i64> = ids(&owner_reads_events(&app, "tom").await)
        .into_iter()
        .filter(|id| !old.contains(id))
        .collect();
    assert_eq!(young.len(), 2);
    app.clock.advance(TimeDelta::days(199));
    let pruned = custadmin::service::housekeeping::prune(&app.state)
        .await
        .unwrap();
    assert_eq!(pruned.events, 0, "399 days are within the retention");

    app.clock.advance(TimeDelta::days(2));
    let pruned = custadmin::service::housekeeping::prune(&app.state)
        .await
        .unwrap();
    assert_eq!(pruned.events, old.len());
    let left = ids(&owner_reads_events(&app, "tom").await);
    assert!(left.iter().all(|id| !old.contains(id)), "{left:?} {old:?}");
    assert!(
        young.iter().all(|id| left.contains(id)),
        "{left:?} {young:?}"
    );
}

async fn a_repeated_failure_is_kept_until_its_last_time_is_past_the_retention(app: TestApp) {
    let hour = at_next_hour(&app, TimeDelta::seconds(10));
    app.register("uma").await;
    app.api.login("uma", "wrong password").await;
    app.clock.set(hour + TimeDelta::minutes(59));
    app.api.login("uma", "wrong password").await;
    let before = owner_reads_events(&app, "uma").await;
    assert_eq!(event_kinds(&before), ["login_succeeded", "login_failed"]);

    // 30 days after the middle of that hour: the sign-in at the end of it stays, and so does
    // the failures' event, which last happened after the cut-off though it began before.
    app.clock
        .set(hour + TimeDelta::days(30) + TimeDelta::minutes(30));
    let pruned = custadmin::service::housekeeping::prune(&app.state)
        .await
        .unwrap();
    assert_eq!(pruned.events, 0);

    app.clock
        .set(hour + TimeDelta::days(30) + TimeDelta::minutes(61));
    let pruned = custadmin::service::housekeeping::prune(&app.state)
        .await
        .unwrap();
    assert_eq!(pruned.events, 2);
    let after = owner_reads_events(&app, "uma").await;
    assert_eq!(event_kinds(&after), ["login_succeeded"]);
}
