//! Story of the editable settings (issue 4 items 2 and 3): the sub-category catalogue and the
//! major-appeal rules start as the domain's defaults, are saved as numbered versions with who
//! and when, refuse stale versions and dangling references, and keep every version.

use kefu_domain::ids::StaffId;
use kefu_domain::org::DepartmentKind;
use kefu_domain::workorder::{
    AppealType, Catalogue, Gravity, MajorRules, SubCategory, SubCategoryCode,
};
use kefu_store::{Actor, PageRequest, Saved, Store, StoreError};

use crate::fixtures::{SYSTEM, at, tree};
use crate::workorder_fixtures::{cast, complaint, take};

fn admin(id: i64) -> Actor {
    Actor::Staff(StaffId(id))
}

fn code(raw: &str) -> SubCategoryCode {
    SubCategoryCode::parse(raw).expect("fixture code")
}

/// The defaults plus a smart-meter complaint, with outages moved to the dispatch department.
fn edited() -> Catalogue {
    let mut entries = Catalogue::defaults().entries().to_vec();
    for e in &mut entries {
        if e.code.as_str() == "complaint.outage" {
            e.department = DepartmentKind::Dispatch;
        }
    }
    entries.push(SubCategory {
        code: code("complaint.smart_meter"),
        appeal_type: AppealType::Complaint,
        name_zh: "智能电表".into(),
        name_en: "Smart meter".into(),
        department: DepartmentKind::Marketing,
        gravity: Gravity::Ordinary,
    });
    Catalogue::new(entries).expect("edited catalogue is valid")
}

/// The defaults without `codes`.
fn without(codes: &[&str]) -> Catalogue {
    let entries = Catalogue::defaults()
        .entries()
        .iter()
        .filter(|e| !codes.contains(&e.code.as_str()))
        .cloned()
        .collect();
    Catalogue::new(entries).expect("catalogue without some codes is valid")
}

/// The defaults with 雷击 instead of 群体, and `codes` always major.
fn rules(codes: &[&str]) -> MajorRules {
    let mut keywords = MajorRules::defaults().keywords;
    keywords.retain(|k| k != "群体");
    keywords.push("雷击".into());
    MajorRules::new(keywords, codes.iter().map(|c| code(c)).collect()).expect("valid rules")
}

async fn audit_actions(store: &dyn Store, target: &str) -> Vec<(String, String)> {
    store
        .list_audit(Some(target), PageRequest::new(None, Some(200)))
        .await
        .expect("audit")
        .items
        .into_iter()
        .map(|e| (e.action, e.detail))
        .collect()
}

/// Nothing saved yet: both settings are the domain's defaults at version 0, with no history.
pub async fn catalogue_and_rules_start_as_the_defaults_at_version_zero(store: &dyn Store) {
    let cat = store.current_catalogue().await.expect("catalogue");
    assert_eq!(
        (cat.version, &cat.value, &cat.saved),
        (0, &Catalogue::defaults(), &None)
    );
    let r = store.current_major_rules().await.expect("rules");
    assert_eq!(
        (r.version, &r.value, &r.saved),
        (0, &MajorRules::defaults(), &None)
    );
    let first = PageRequest::first();
    assert!(
        store
            .catalogue_history(first)
            .await
            .expect("h")
            .items
            .is_empty()
    );
    assert!(
        store
            .major_rules_history(first)
            .await
            .expect("h")
            .items
            .is_empty()
    );
}

/// A saved catalogue reads back equal, as version 1 by its actor at its time; saving it again
/// unchanged writes nothing.
pub async fn saved_catalogue_reads_back_equal(store: &dyn Store) {
    let saved = store
        .save_catalogue(edited(), 0, &admin(7), at(5))
        .await
        .expect("save");
    let by = Saved {
        at: at(5),
        staff_id: Some(StaffId(7)),
        actor: "staff:7".into(),
    };
    assert_eq!(saved.version, 1);
    assert_eq!(saved.value, edited());
    assert_eq!(saved.saved.as_ref(), Some(&by));
    assert_eq!(store.current_catalogue().await.expect("read"), saved);
    let again = store
        .save_catalogue(edited(), 1, &admin(8), at(6))
        .await
        .expect("unchanged save");
    assert_eq!(again, saved);
    let history = store
        .catalogue_history(PageRequest::first())
        .await
        .expect("history");
    assert_eq!(history.items, vec![saved]);
    let audit = audit_actions(store, "catalogue").await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].0, "catalogue.save");
    assert!(
        audit[0].1.contains("added complaint.smart_meter"),
        "{audit:?}"
    );
    assert!(audit[0].1.contains("changed complaint.outage"), "{audit:?}");
}

/// Two administrators editing from one version: the second save conflicts and changes nothing.
pub async fn stale_catalogue_version_is_refused(store: &dyn Store) {
    store
        .save_catalogue(edited(), 0, &admin(7), at(1))
        .await
        .expect("first save");
    for stale in [0, 2] {
        let err = store
            .save_catalogue(without(&["complaint.metering"]), stale, &admin(8), at(2))
            .await
            .expect_err("stale");
        assert!(
            matches!(
                err,
                StoreError::VersionConflict {
                    entity: "catalogue",
                    current: 1
                }
            ),
            "{err:?}"
        );
    }
    let now = store.current_catalogue().await.expect("read");
    assert_eq!((now.version, now.value), (1, edited()));
}

/// Every save stays in the history, newest first, each with its actor and time, and audited.
pub async fn catalogue_history_keeps_every_version_with_actor_and_time(store: &dyn Store) {
    let versions = [
        (edited(), admin(7), at(1)),
        (without(&["complaint.metering"]), SYSTEM, at(2)),
        (Catalogue::defaults(), admin(8), at(3)),
    ];
    for (i, (cat, actor, when)) in versions.iter().enumerate() {
        let expected = i64::try_from(i).expect("small");
        store
            .save_catalogue(cat.clone(), expected, actor, *when)
            .await
            .expect("save");
    }
    let first = store
        .catalogue_history(PageRequest::new(None, Some(2)))
        .await
        .expect("page 1");
    let second = store
        .catalogue_history(PageRequest::new(first.next, Some(2)))
        .await
        .expect("page 2");
    assert!(second.next.is_none());
    let all: Vec<_> = first.items.into_iter().chain(second.items).collect();
    assert_eq!(
        all.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![3, 2, 1]
    );
    for (v, (cat, actor, when)) in all.iter().rev().zip(&versions) {
        assert_eq!(&v.value, cat);
        let saved = v.saved.as_ref().expect("saved versions name who and when");
        assert_eq!(saved.at, *when);
        assert_eq!(saved.actor, actor.label());
        assert_eq!(saved.staff_id, actor.staff_id());
    }
    let audit = audit_actions(store, "catalogue").await;
    let details: Vec<&str> = audit.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(details.len(), 3, "{details:?}");
    assert!(details[0].starts_with("version 3"), "{details:?}");
    assert!(
        details[1].contains("removed complaint.metering"),
        "{details:?}"
    );
}

/// A sub-category an order is filed under, or one the major rules name, cannot be dropped; the
/// refusal names it and writes nothing. Unused codes can go.
pub async fn removing_a_code_in_use_is_refused_and_writes_nothing(store: &dyn Store) {
    let t = tree(store).await;
    let c = cast(&t);
    take(store, &c, complaint(&t), at(0)).await;
    let err = store
        .save_catalogue(
            without(&["complaint.outage", "complaint.metering"]),
            0,
            &admin(7),
            at(1),
        )
        .await
        .expect_err("code in use");
    match &err {
        StoreError::InvalidState(m) => {
            assert!(m.contains("complaint.outage"), "{m}");
            assert!(!m.contains("complaint.metering"), "{m}");
        }
        other => panic!("expected InvalidState, got {other:?}"),
    }
    assert_eq!(store.current_catalogue().await.expect("read").version, 0);
    let first = PageRequest::first();
    assert!(
        store
            .catalogue_history(first)
            .await
            .expect("h")
            .items
            .is_empty()
    );
    assert!(audit_actions(store, "catalogue").await.is_empty());

    let v1 = store
        .save_catalogue(without(&["complaint.metering"]), 0, &admin(7), at(2))
        .await
        .expect("an unused code can be removed");
    assert_eq!(v1.version, 1);

    store
        .save_major_rules(rules(&["complaint.tariff"]), 0, &admin(7), at(3))
        .await
        .expect("rules");
    let err = store
        .save_catalogue(
            without(&["complaint.metering", "complaint.tariff"]),
            1,
            &admin(7),
            at(4),
        )
        .await
        .expect_err("code named by the rules");
    assert!(
        matches!(&err, StoreError::InvalidState(m) if m.contains("complaint.tariff") && m.contains("major-appeal rules")),
        "{err:?}"
    );
    assert_eq!(store.current_catalogue().await.expect("read"), v1);
}

/// Major rules round-trip, refuse stale versions and unknown sub-categories, and keep history.
pub async fn major_rules_round_trip_and_keep_history(store: &dyn Store) {
    let v1 = store
        .save_major_rules(rules(&["complaint.outage"]), 0, &admin(9), at(4))
        .await
        .expect("save");
    assert_eq!(v1.version, 1);
    assert_eq!(v1.value, rules(&["complaint.outage"]));
    assert_eq!(
        v1.saved.as_ref().map(|s| (s.at, s.staff_id)),
        Some((at(4), Some(StaffId(9))))
    );
    assert_eq!(store.current_major_rules().await.expect("read"), v1);

    let err = store
        .save_major_rules(rules(&[]), 0, &admin(9), at(5))
        .await
        .expect_err("stale");
    assert!(
        matches!(
            err,
            StoreError::VersionConflict {
                entity: "major_rules",
                current: 1
            }
        ),
        "{err:?}"
    );
    let err = store
        .save_major_rules(rules(&["complaint.smart_meter"]), 1, &admin(9), at(5))
        .await
        .expect_err("not in the catalogue");
    assert!(
        matches!(&err, StoreError::InvalidState(m) if m.contains("complaint.smart_meter")),
        "{err:?}"
    );
    store
        .save_catalogue(edited(), 0, &admin(9), at(6))
        .await
        .expect("catalogue");
    let v2 = store
        .save_major_rules(rules(&["complaint.smart_meter"]), 1, &SYSTEM, at(7))
        .await
        .expect("now in the catalogue");
    let history = store
        .major_rules_history(PageRequest::first())
        .await
        .expect("history");
    assert_eq!(history.items, vec![v2, v1]);
    let audit = audit_actions(store, "major_rules").await;
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert!(audit.iter().all(|(a, _)| a == "major_rules.save"));
    assert!(audit[1].1.contains("keywords added 雷击"), "{audit:?}");
}

/// Two administrators saving from one version at the same moment: exactly one wins, the other
/// conflicts, and the history holds one version.
pub async fn racing_catalogue_saves_conflict_once(store: &dyn Store) {
    let (first, second) = (admin(7), admin(8));
    let (a, b) = tokio::join!(
        store.save_catalogue(edited(), 0, &first, at(1)),
        store.save_catalogue(without(&["complaint.metering"]), 0, &second, at(1)),
    );
    let outcomes = [a.is_ok(), b.is_ok()];
    assert_eq!(
        outcomes.iter().filter(|ok| **ok).count(),
        1,
        "{a:?} / {b:?}"
    );
    let loser = if outcomes[0] { b } else { a };
    assert!(
        matches!(
            loser,
            Err(StoreError::VersionConflict {
                entity: "catalogue",
                current: 1
            })
        ),
        "{loser:?}"
    );
    let history = store
        .catalogue_history(PageRequest::first())
        .await
        .expect("history");
    assert_eq!(history.items.len(), 1);
}
