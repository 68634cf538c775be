//! The order list's sort order (`sort=newest|oldest|due`), kept by the cursor, and refused by name
//! when unknown.

use axum::http::StatusCode;

use crate::both_stores;
use crate::helpers::Backend;
use crate::workorders::{ORDERS, auth, complaint, list, number, setup, take};

async fn lists_sort_newest_oldest_or_by_deadline(b: Backend) {
    let (t, cid) = setup(b).await;
    let mut taken = Vec::new();
    for i in 0..3 {
        taken.push(number(
            &take(&t, "agent_a", complaint(cid, &format!("停电 {i}"))).await,
        ));
    }
    let newest = list(&t, "agent_a", "").await;
    let oldest = list(&t, "agent_a", "sort=oldest").await;
    assert_eq!(oldest, taken);
    assert_eq!(newest, taken.iter().rev().cloned().collect::<Vec<_>>());
    // The cursor pages on in the same direction.
    let r = t
        .get(
            &format!("{ORDERS}?sort=oldest&limit=2"),
            &auth(&t, "agent_a"),
        )
        .await;
    let cursor = r.body["next_cursor"].as_str().unwrap().to_owned();
    let rest = list(
        &t,
        "agent_a",
        &format!("sort=oldest&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(rest, vec![taken[2].clone()]);
    // The same limit on each: the nearest deadline is the oldest appeal's.
    assert_eq!(list(&t, "agent_a", "sort=due").await, taken);
    let bad = t
        .get(&format!("{ORDERS}?sort=sideways"), &auth(&t, "agent_a"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.fields(), vec!["sort".to_owned()]);
}

both_stores!(lists_sort_newest_oldest_or_by_deadline);
