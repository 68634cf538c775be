//! The supervisors' board: open, warning, overdue, major and supervised counts per unit, and
//! today's intake per channel, within the viewer's subtree.

use chrono::Duration;
use kefu_domain::calendar::LimitKind;
use kefu_domain::workorder::{Channel, Command};
use kefu_store::{OpenCounts, Store, roll_up};

use crate::fixtures::{at, t0, tree};
use crate::workorder_fixtures::{cast, complaint, intake, ok, take};

/// Two complaints in county A (one supervised), one in county B; counts before and after the
/// contact deadline, rolled up to the province's cities, and intake per channel.
pub async fn board_counts_open_orders_per_unit_and_intake_per_channel(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    let first = take(store, &c, complaint(&t), t0()).await;
    take(store, &c, complaint(&t), at(1)).await;
    let b = intake(2, &t.county_b.path, "complaint.outage", Channel::Web, None);
    take(store, &c, b, at(2)).await;
    let watch = Command::Supervise {
        reason: "媒体关注".into(),
    };
    ok(store, &t, &first.order.number, watch, &c.supervisor, at(3)).await;
    let due = first
        .sla
        .iter()
        .find(|d| d.kind == LimitKind::Contact)
        .and_then(|d| d.due_at)
        .expect("contact deadline");

    let before = store
        .open_counts(&t.province.path, at(4))
        .await
        .expect("counts");
    let cities = [t.city_a.path.clone(), t.city_b.path.clone()];
    let board = roll_up(&t.province.path, &cities, &before);
    assert_eq!(
        board[0].counts,
        OpenCounts::default(),
        "the province holds none itself"
    );
    assert_eq!(board[1].counts.open, 2);
    assert_eq!(board[1].counts.supervised, 1);
    assert_eq!(board[1].counts.overdue, 0);
    assert_eq!(board[2].counts.open, 1);

    let after = store
        .open_counts(&t.province.path, due + Duration::minutes(5))
        .await
        .expect("counts");
    let board = roll_up(&t.province.path, &cities, &after);
    assert_eq!(board[1].counts.overdue, 2);
    assert_eq!(
        board[1].counts.warning, 0,
        "overdue is not counted as warning too"
    );

    // A county sees only its own orders.
    let county = store
        .open_counts(&t.county_b.path, at(4))
        .await
        .expect("counts");
    assert_eq!(county.len(), 1);
    assert_eq!(county[0].counts.open, 1);

    let mut by_channel = store
        .intake_by_channel(&t.province.path, t0())
        .await
        .expect("channels");
    by_channel.sort();
    assert_eq!(
        by_channel,
        vec![(Channel::Phone95598, 2), (Channel::Web, 1)]
    );
    assert!(
        store
            .intake_by_channel(&t.province.path, at(60))
            .await
            .expect("channels")
            .is_empty()
    );
}
