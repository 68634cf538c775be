//! Staff, sessions and API tokens.

use chrono::Duration;
use kefu_domain::auth::{Role, Roles, Username};
use kefu_domain::ids::{ApiTokenId, DepartmentId, StaffId};
use kefu_domain::org::DepartmentKind;
use kefu_store::{Actor, NewDepartment, NewStaff, PageRequest, Session, Store, StoreError};

use crate::fixtures::{SYSTEM, at, staff, t0, tree};

fn session(staff_id: StaffId, hours: i64) -> Session {
    Session {
        staff_id,
        csrf_token: "csrf-0123456789".into(),
        created_at: t0(),
        expires_at: t0() + Duration::hours(hours),
    }
}

/// A created staff member reads back with roles and unit path; the login read adds the hash.
pub async fn staff_round_trips_with_roles_and_login_hash(store: &dyn Store) {
    let t = tree(store).await;
    let s = staff(
        store,
        "wang.li",
        &t.county_a,
        &[Role::Supervisor, Role::Agent],
    )
    .await;
    assert_eq!(s.org_path, t.county_a.path);
    assert_eq!(s.roles.as_slice(), &[Role::Agent, Role::Supervisor]);
    assert!(s.active);
    assert_eq!(store.get_staff(s.id).await.expect("get"), Some(s.clone()));
    let (login, hash) = store
        .get_staff_for_login(&Username::parse("WANG.LI").expect("name"))
        .await
        .expect("login read")
        .expect("found");
    assert_eq!(login, s);
    assert!(hash.starts_with("$argon2id$"));
    assert_eq!(
        store
            .get_staff_for_login(&Username::parse("nobody").expect("name"))
            .await
            .expect("login read"),
        None
    );
    assert_eq!(store.get_staff(StaffId(987_654)).await.expect("get"), None);
}

/// Login names are unique; unit and department must exist, the department in that unit.
pub async fn staff_references_and_username_are_checked(store: &dyn Store) {
    let t = tree(store).await;
    staff(store, "zhang.san", &t.city_a, &[Role::Agent]).await;
    let new = |username: &str, unit, dept| NewStaff {
        username: Username::parse(username).expect("name"),
        display_name: "张三".into(),
        org_unit_id: unit,
        department_id: dept,
        roles: Roles::new(vec![Role::Agent]).expect("roles"),
        password_hash: "$argon2id$secret".into(),
    };
    let err = store
        .create_staff(new("zhang.san", t.city_b.id, None), &SYSTEM)
        .await
        .expect_err("duplicate");
    assert!(
        matches!(err, StoreError::Duplicate { field: "username", ref value } if value == "zhang.san"),
        "{err:?}"
    );
    let err = store
        .create_staff(
            new("li.si", kefu_domain::ids::OrgUnitId(555_555), None),
            &SYSTEM,
        )
        .await
        .expect_err("unknown unit");
    assert!(
        matches!(
            err,
            StoreError::UnknownReference {
                field: "org_unit_id",
                ..
            }
        ),
        "{err:?}"
    );
    let dept_b = store
        .create_department(
            NewDepartment {
                unit_id: t.city_b.id,
                kind: DepartmentKind::Marketing,
                name: "营销部".into(),
            },
            &SYSTEM,
        )
        .await
        .expect("department");
    let err = store
        .create_staff(new("li.si", t.city_a.id, Some(dept_b.id)), &SYSTEM)
        .await
        .expect_err("department of another unit");
    assert!(
        matches!(
            err,
            StoreError::UnknownReference {
                field: "department_id",
                ..
            }
        ),
        "{err:?}"
    );
    let err = store
        .create_staff(new("li.si", t.city_b.id, Some(DepartmentId(4242))), &SYSTEM)
        .await
        .expect_err("unknown department");
    assert!(
        matches!(
            err,
            StoreError::UnknownReference {
                field: "department_id",
                ..
            }
        ),
        "{err:?}"
    );
    let ok = store
        .create_staff(new("li.si", t.city_b.id, Some(dept_b.id)), &SYSTEM)
        .await
        .expect("department of the same unit");
    assert_eq!(ok.department_id, Some(dept_b.id));
}

/// Staff lists keep to the scope and page by id.
pub async fn staff_list_is_scoped_and_paged(store: &dyn Store) {
    let t = tree(store).await;
    let mut in_a = Vec::new();
    for i in 0..5 {
        in_a.push(
            staff(store, &format!("a{i}.agent"), &t.county_a, &[Role::Agent])
                .await
                .id,
        );
        staff(store, &format!("b{i}.agent"), &t.county_b, &[Role::Agent]).await;
    }
    let mut seen = Vec::new();
    let mut req = PageRequest::new(None, Some(2));
    loop {
        let page = store.list_staff(&t.city_a.path, req).await.expect("list");
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|s| s.id));
        match page.next {
            Some(c) => req = PageRequest::new(Some(c), Some(2)),
            None => break,
        }
    }
    assert_eq!(seen, in_a);
    let all = store
        .list_staff(&t.hq.path, PageRequest::new(None, Some(200)))
        .await
        .expect("list");
    assert_eq!(all.items.len(), 10);
    assert_eq!(all.next, None);
}

/// A session is found by its hash until it expires, then no longer; logout is idempotent.
pub async fn expired_session_is_not_returned(store: &dyn Store) {
    let t = tree(store).await;
    let s = staff(store, "agent.one", &t.county_a, &[Role::Agent]).await;
    let hash = [7_u8; 32];
    store
        .create_session(&hash, &session(s.id, 8))
        .await
        .expect("create");
    let (found, who) = store
        .get_session(&hash, at(60))
        .await
        .expect("get")
        .expect("live session");
    assert_eq!(found, session(s.id, 8));
    assert_eq!(who.id, s.id);
    assert_eq!(
        store.get_session(&hash, at(8 * 60)).await.expect("get"),
        None,
        "expired at its expiry instant"
    );
    assert_eq!(
        store.get_session(&[8_u8; 32], at(1)).await.expect("get"),
        None
    );
    store
        .create_session(&[9_u8; 32], &session(s.id, 1))
        .await
        .expect("create");
    assert_eq!(
        store.purge_expired_sessions(at(120)).await.expect("purge"),
        1
    );
    assert!(
        store
            .get_session(&hash, at(121))
            .await
            .expect("get")
            .is_some()
    );
    store.delete_session(&hash).await.expect("logout");
    store
        .delete_session(&hash)
        .await
        .expect("logout twice is fine");
    assert_eq!(store.get_session(&hash, at(122)).await.expect("get"), None);
}

/// Changing a password ends every session of that person (and only theirs).
pub async fn password_change_ends_sessions(store: &dyn Store) {
    let t = tree(store).await;
    let a = staff(store, "agent.a", &t.county_a, &[Role::Agent]).await;
    let b = staff(store, "agent.b", &t.county_a, &[Role::Agent]).await;
    store
        .create_session(&[1; 32], &session(a.id, 8))
        .await
        .expect("s1");
    store
        .create_session(&[2; 32], &session(a.id, 8))
        .await
        .expect("s2");
    store
        .create_session(&[3; 32], &session(b.id, 8))
        .await
        .expect("s3");
    store
        .set_password(a.id, "$argon2id$new", &Actor::Staff(a.id))
        .await
        .expect("set password");
    assert_eq!(store.get_session(&[1; 32], at(1)).await.expect("get"), None);
    assert_eq!(store.get_session(&[2; 32], at(1)).await.expect("get"), None);
    assert!(
        store
            .get_session(&[3; 32], at(1))
            .await
            .expect("get")
            .is_some()
    );
    let (_, hash) = store
        .get_staff_for_login(&a.username)
        .await
        .expect("login read")
        .expect("found");
    assert_eq!(hash, "$argon2id$new");
    let err = store
        .set_password(StaffId(31_337), "$argon2id$x", &SYSTEM)
        .await
        .expect_err("unknown staff");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

/// A token authenticates and records its last use until it is revoked.
pub async fn revoked_token_no_longer_authenticates(store: &dyn Store) {
    let t = tree(store).await;
    let s = staff(store, "cti.bot", &t.province, &[Role::Agent]).await;
    let token = store
        .create_api_token(s.id, "CTI screen-pop", &[5; 32], &SYSTEM)
        .await
        .expect("create");
    assert_eq!(token.last_used_at, None);
    let (used, who) = store
        .use_api_token(&[5; 32], at(3))
        .await
        .expect("use")
        .expect("live token");
    assert_eq!(used.id, token.id);
    assert_eq!(used.last_used_at, Some(at(3)));
    assert_eq!(who.id, s.id);
    assert_eq!(
        store.use_api_token(&[6; 32], at(3)).await.expect("use"),
        None
    );
    store
        .revoke_api_token(token.id, &SYSTEM)
        .await
        .expect("revoke");
    assert_eq!(
        store.use_api_token(&[5; 32], at(3)).await.expect("use"),
        None,
        "refused at once, even at the instant it was last resolved (no cached answer survives)"
    );
    assert_eq!(
        store.use_api_token(&[5; 32], at(4)).await.expect("use"),
        None
    );
    let err = store
        .revoke_api_token(ApiTokenId(99_999), &SYSTEM)
        .await
        .expect_err("unknown token");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    let err = store
        .create_api_token(StaffId(99_999), "x", &[7; 32], &SYSTEM)
        .await
        .expect_err("unknown staff");
    assert!(
        matches!(err, StoreError::UnknownReference { .. }),
        "{err:?}"
    );
}

/// Frequent uses of one token record its last use at most once per resolution interval, so
/// look-ups through an integration's token are reads, not one write per request.
pub async fn token_use_is_recorded_at_most_once_per_interval(store: &dyn Store) {
    let t = tree(store).await;
    let s = staff(store, "billing.sync", &t.province, &[Role::Analyst]).await;
    store
        .create_api_token(s.id, "billing sync", &[7; 32], &SYSTEM)
        .await
        .expect("create");
    let use_at = |when| async move {
        store
            .use_api_token(&[7; 32], when)
            .await
            .expect("use")
            .expect("live token")
            .0
            .last_used_at
    };
    assert_eq!(use_at(at(10)).await, Some(at(10)), "first use is recorded");
    let within = at(10) + Duration::seconds(kefu_store::TOKEN_USE_RESOLUTION_SECS - 1);
    assert_eq!(
        use_at(within).await,
        Some(at(10)),
        "a use within the interval writes nothing"
    );
    let after = at(10) + Duration::seconds(kefu_store::TOKEN_USE_RESOLUTION_SECS + 1);
    assert_eq!(
        use_at(after).await,
        Some(after),
        "a later use is recorded again"
    );
}
