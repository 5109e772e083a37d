//! The message centre (R-BOOK-3): notices recorded with the change they report, unread
//! counts, reading marks read, only the account's own.
use crate::helpers::{Db, assert_error, spawn_patient};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub async fn notices_arrive_and_are_read(db: Db) {
    let app = spawn_patient(db).await;
    let empty: Value = app.get("/api/v1/messages").await.json().await.unwrap();
    assert_eq!(empty, json!({ "messages": [], "unread": 0 }));
    let home = app.page("/").await.text().await.unwrap();
    assert!(!home.contains("unread-badge"), "no badge without notices");

    app.add_child().await;
    let list: Value = app.get("/api/v1/messages").await.json().await.unwrap();
    assert_eq!(list["unread"], 1);
    let notice = &list["messages"][0];
    assert_eq!(notice["kind"], "family_member_added");
    assert_eq!(notice["title"], "已添加就诊人");
    assert!(notice["body"].as_str().unwrap().contains("张小明"));
    assert_eq!(notice["read"], false);
    let id = notice["id"].as_i64().unwrap();

    // The 消息 tab shows the count on every page; the list and the notice are pages too.
    let home = app.page("/").await.text().await.unwrap();
    assert!(
        home.contains("unread-badge"),
        "the tab shows the unread count"
    );
    let page = app.page("/messages").await.text().await.unwrap();
    assert!(page.contains("已添加就诊人") && page.contains("notice-unread"));
    let english = app
        .client
        .get(app.url("/api/v1/messages"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(english["messages"][0]["title"], "Family member added");

    // Another account cannot read it, and its attempt marks nothing.
    let mut other = app.other_client().await;
    assert_eq!(
        other
            .register("13900139000", "11010119880505123X")
            .await
            .status(),
        StatusCode::CREATED
    );
    let res = other.get(&format!("/api/v1/messages/{id}")).await;
    assert_error(res, 404, "not_found", None).await;
    let still: Value = app.get("/api/v1/messages").await.json().await.unwrap();
    assert_eq!(still["unread"], 1);

    let page = app
        .page(&format!("/messages/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("张小明"), "the notice page shows the body");
    let opened: Value = app
        .get(&format!("/api/v1/messages/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(opened["read"], true);
    let list: Value = app.get("/api/v1/messages").await.json().await.unwrap();
    assert_eq!(list["unread"], 0);
    let home = app.page("/").await.text().await.unwrap();
    assert!(!home.contains("unread-badge"));
}
