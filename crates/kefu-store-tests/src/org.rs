//! The org tree: levels, paths, scope, departments.

use kefu_domain::ids::OrgUnitId;
use kefu_domain::org::{DepartmentKind, OrgCode, OrgLevel, OrgPath};
use kefu_store::{NewDepartment, NewOrgUnit, Store, StoreError};

use crate::fixtures::{SYSTEM, tree, unit};

/// Migrating a current database applies nothing and reports the supported version.
pub async fn migrate_twice_applies_nothing_the_second_time(store: &dyn Store) {
    let report = store.migrate().await.expect("migrate again");
    assert!(
        report.applied.is_empty(),
        "nothing left to apply: {report:?}"
    );
    assert_eq!(report.version, report.supported);
    assert!(report.supported >= 1);
    assert_eq!(
        store.schema_version().await.expect("schema version"),
        report.supported
    );
    store.ping().await.expect("ping");
    assert!(matches!(store.backend(), "sqlite" | "postgres"));
}

/// Paths extend the parent's path with the new id, and scope lists exactly the subtree.
pub async fn org_paths_nest_and_scope_lists_the_subtree(store: &dyn Store) {
    let t = tree(store).await;
    assert_eq!(t.hq.path, OrgPath::root(t.hq.id));
    assert_eq!(t.county_a.path, t.city_a.path.child(t.county_a.id));
    assert_eq!(t.county_a.parent_id, Some(t.city_a.id));

    let all = store.list_org_units(&t.hq.path).await.expect("list all");
    assert_eq!(all.len(), 6);
    let paths: Vec<&str> = all.iter().map(|u| u.path.as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(paths, sorted, "ordered by path");

    let city_a: Vec<OrgUnitId> = store
        .list_org_units(&t.city_a.path)
        .await
        .expect("list city A")
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(city_a, vec![t.city_a.id, t.county_a.id]);

    let got = store.get_org_unit(t.county_b.id).await.expect("get");
    assert_eq!(got.as_ref(), Some(&t.county_b));
    let by_code = store
        .get_org_unit_by_code(&t.county_b.code)
        .await
        .expect("get by code");
    assert_eq!(by_code, Some(t.county_b.clone()));
    assert_eq!(
        store.get_org_unit(OrgUnitId(999_999)).await.expect("get"),
        None
    );
}

/// A sibling whose id starts with the same digits is not inside the other's scope.
pub async fn scope_is_a_path_prefix_not_a_string_prefix(store: &dyn Store) {
    let t = tree(store).await;
    // Enough cities that some id starts with the digits of city A's id (e.g. /1/2/3/ vs /1/2/31/).
    let mut extra = Vec::new();
    for i in 0..30 {
        let u = unit(
            store,
            Some(&t.province),
            &format!("X{i}"),
            "另一个地市",
            OrgLevel::City,
        )
        .await;
        extra.push(u);
    }
    let inside: Vec<OrgUnitId> = store
        .list_org_units(&t.city_a.path)
        .await
        .expect("list")
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(inside, vec![t.city_a.id, t.county_a.id]);
}

/// A unit's level must be exactly one below its parent's; the domain's message is kept.
pub async fn org_unit_level_must_fit_parent(store: &dyn Store) {
    let t = tree(store).await;
    let err = store
        .create_org_unit(
            NewOrgUnit {
                parent_id: Some(t.city_a.id),
                code: OrgCode::parse("S1").expect("code"),
                name: "供电所".into(),
                level: OrgLevel::Station,
            },
            &SYSTEM,
        )
        .await
        .expect_err("a station cannot sit under a city");
    match err {
        StoreError::InvalidState(msg) => assert!(msg.contains("county"), "{msg}"),
        other => panic!("expected InvalidState, got {other:?}"),
    }
    let err = store
        .create_org_unit(
            NewOrgUnit {
                parent_id: None,
                code: OrgCode::parse("P2").expect("code"),
                name: "无上级".into(),
                level: OrgLevel::Province,
            },
            &SYSTEM,
        )
        .await
        .expect_err("a province needs a parent");
    assert!(matches!(err, StoreError::InvalidState(_)), "{err:?}");
    assert_eq!(
        store.list_org_units(&t.hq.path).await.expect("list").len(),
        6,
        "nothing was written"
    );
}

/// Unit codes are unique; an unknown parent is an unknown reference.
pub async fn org_code_is_unique_and_parent_must_exist(store: &dyn Store) {
    let t = tree(store).await;
    let err = store
        .create_org_unit(
            NewOrgUnit {
                parent_id: Some(t.city_a.id),
                code: t.county_b.code.clone(),
                name: "重复".into(),
                level: OrgLevel::County,
            },
            &SYSTEM,
        )
        .await
        .expect_err("duplicate code");
    assert!(
        matches!(err, StoreError::Duplicate { field: "code", ref value } if value == "330203"),
        "{err:?}"
    );
    let err = store
        .create_org_unit(
            NewOrgUnit {
                parent_id: Some(OrgUnitId(424_242)),
                code: OrgCode::parse("ORPHAN").expect("code"),
                name: "孤儿".into(),
                level: OrgLevel::County,
            },
            &SYSTEM,
        )
        .await
        .expect_err("unknown parent");
    assert!(
        matches!(
            err,
            StoreError::UnknownReference {
                field: "parent_id",
                entity: "org_unit"
            }
        ),
        "{err:?}"
    );
}

/// A unit has at most one department of each kind; departments list by scope.
pub async fn department_kind_is_unique_per_unit(store: &dyn Store) {
    let t = tree(store).await;
    let dept = |unit: OrgUnitId, kind: DepartmentKind| NewDepartment {
        unit_id: unit,
        kind,
        name: kind.label_zh().to_owned(),
    };
    let a = store
        .create_department(dept(t.city_a.id, DepartmentKind::Marketing), &SYSTEM)
        .await
        .expect("create");
    assert_eq!(a.unit_id, t.city_a.id);
    store
        .create_department(dept(t.city_b.id, DepartmentKind::Marketing), &SYSTEM)
        .await
        .expect("same kind in another unit is fine");
    store
        .create_department(dept(t.county_a.id, DepartmentKind::Operations), &SYSTEM)
        .await
        .expect("create");
    let err = store
        .create_department(dept(t.city_a.id, DepartmentKind::Marketing), &SYSTEM)
        .await
        .expect_err("duplicate kind");
    assert!(
        matches!(err, StoreError::Duplicate { field: "kind", .. }),
        "{err:?}"
    );
    let err = store
        .create_department(dept(OrgUnitId(777_777), DepartmentKind::Office), &SYSTEM)
        .await
        .expect_err("unknown unit");
    assert!(
        matches!(
            err,
            StoreError::UnknownReference {
                field: "unit_id",
                ..
            }
        ),
        "{err:?}"
    );
    let in_a: Vec<(OrgUnitId, DepartmentKind)> = store
        .list_departments(&t.city_a.path)
        .await
        .expect("list")
        .into_iter()
        .map(|d| (d.unit_id, d.kind))
        .collect();
    assert_eq!(
        in_a,
        vec![
            (t.city_a.id, DepartmentKind::Marketing),
            (t.county_a.id, DepartmentKind::Operations)
        ]
    );
    assert_eq!(
        store
            .list_departments(&t.province.path)
            .await
            .expect("list")
            .len(),
        3
    );
}
