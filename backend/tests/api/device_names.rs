//! Sessions, devices and events name the browser and system people recognise ("Firefox 133
//! on Windows"), beside the raw User-Agent, which stays.

use serde_json::{json, Value};

use crate::helpers::{session_from, TestApp, PASSWORD};
use crate::on_both_databases;

on_both_databases!(sessions_devices_and_events_name_the_browser_and_system);

const FIREFOX_ON_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

async fn sessions_devices_and_events_name_the_browser_and_system(app: TestApp) {
    app.register("wanda").await;
    let firefox = session_from(
        &app.api
            .login("wanda", PASSWORD)
            .header("user-agent", FIREFOX_ON_WINDOWS)
            .await,
    );
    let script = session_from(
        &app.api
            .login("wanda", PASSWORD)
            .header("user-agent", "curl/8.5.0")
            .await,
    );
    let named = json!({"browser": "Firefox", "browser_version": "133", "os": "Windows"});

    let sessions = app.api.sessions(&firefox.access_token).await;
    let sessions = sessions.assert_ok()["sessions"].as_array().unwrap().clone();
    let current: &Value = sessions.iter().find(|s| s["current"] == true).unwrap();
    assert_eq!(current["device_name"], named);
    assert_eq!(
        current["user_agent"], "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0)",
        "the raw string stays beside it"
    );
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(
        other["device_name"],
        Value::Null,
        "a script has no device name"
    );
    assert_eq!(other["user_agent"], "curl/8.5.0");

    let devices = app.api.devices(&firefox.access_token).await;
    let devices = devices.assert_ok()["devices"].as_array().unwrap().clone();
    assert!(devices.iter().any(|device| device["device_name"] == named));

    let events = app.api.events(&script.access_token).await;
    let events = events.assert_ok()["events"].as_array().unwrap().clone();
    let sign_ins: Vec<&Value> = events
        .iter()
        .filter(|event| event["kind"] == "login_succeeded")
        .collect();
    assert_eq!(sign_ins.len(), 2);
    assert!(sign_ins
        .iter()
        .any(|event| event["device_name"] == named && event["user_agent"] == FIREFOX_ON_WINDOWS));
    assert!(sign_ins
        .iter()
        .any(|event| event["device_name"].is_null() && event["user_agent"] == "curl/8.5.0"));
}
