//! The test harness: an app over a fresh store (SQLite or PostgreSQL), an org tree
//! HQ → province → city X → counties A and B, one staff member per role with an API token,
//! and small helpers to send requests with `oneshot` and read problem documents.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use kefu_domain::auth::{Role, Roles, Username};
use kefu_domain::customer::resident_check_char;
use kefu_domain::ids::{OrgUnitId, StaffId};
use kefu_domain::org::{OrgCode, OrgLevel};
use kefu_server::{AppState, ServerConfig, app};
use kefu_store::{Actor, NewOrgUnit, NewStaff, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The password of every seeded staff member.
pub const PASSWORD: &str = "Kefu-2026-test";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per backend for each named `async fn(Backend)`.
#[macro_export]
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            )*
        }
    };
}

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Bearer(String),
    /// The session cookie and, when `Some`, the CSRF header.
    Cookie(String, Option<String>),
}

/// A response, decoded.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    /// The `field`s named in a problem's `errors`.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The problem's `code`.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Asserts a problem+json with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.code(), code, "body: {}", self.text);
        assert_eq!(
            self.headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        assert_eq!(self.body["status"].as_u64(), Some(u64::from(status)));
    }
}

/// The seeded units.
#[derive(Debug, Clone, Copy)]
pub struct Units {
    pub hq: OrgUnitId,
    pub province: OrgUnitId,
    pub city_x: OrgUnitId,
    pub county_a: OrgUnitId,
    pub county_b: OrgUnitId,
}

/// One seeded staff member.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: StaffId,
    pub token: String,
}

impl Person {
    pub fn bearer(&self) -> Auth {
        Auth::Bearer(self.token.clone())
    }
}

/// An app over a fresh, seeded store.
pub struct TestApp {
    pub store: Arc<dyn Store>,
    /// The state behind `app` (for what handlers share, e.g. the cached time rules).
    pub state: AppState,
    pub app: Router,
    pub units: Units,
    pub people: HashMap<&'static str, Person>,
}

fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| kefu_server::password::hash_password(PASSWORD).unwrap())
}

async fn fresh_store(backend: Backend) -> Arc<dyn Store> {
    match backend {
        Backend::Sqlite => Arc::new(kefu_store_sqlite::testing::fresh_store().await),
        Backend::Postgres => Arc::new(kefu_store_postgres::testing::fresh_store().await),
    }
}

/// The staff seeded: key → (username, roles, unit).
/// Picks a seeded unit.
type UnitOf = fn(&Units) -> OrgUnitId;

const STAFF: [(&str, &[Role], UnitOf); 8] = [
    ("agent_a", &[Role::Agent], |u| u.county_a),
    ("agent_b", &[Role::Agent], |u| u.county_b),
    ("manager_a", &[Role::CustomerManager], |u| u.county_a),
    ("dispatcher_x", &[Role::Dispatcher], |u| u.city_x),
    ("handler_a", &[Role::Handler], |u| u.county_a),
    ("supervisor_x", &[Role::Supervisor], |u| u.city_x),
    ("analyst_x", &[Role::Analyst], |u| u.city_x),
    ("admin_p", &[Role::Admin], |u| u.province),
];

impl TestApp {
    /// A seeded app with the default configuration.
    pub async fn new(backend: Backend) -> TestApp {
        Self::with_config(backend, ServerConfig::default()).await
    }

    /// A seeded app with `config`.
    pub async fn with_config(backend: Backend, config: ServerConfig) -> TestApp {
        let store = fresh_store(backend).await;
        let sys = Actor::System("test");
        let unit = |parent: Option<OrgUnitId>, code: &str, name: &str, level| NewOrgUnit {
            parent_id: parent,
            code: OrgCode::parse(code).unwrap(),
            name: name.to_owned(),
            level,
        };
        let hq = store
            .create_org_unit(unit(None, "hq", "国家电网", OrgLevel::Hq), &sys)
            .await
            .unwrap()
            .id;
        let province = store
            .create_org_unit(
                unit(Some(hq), "33", "国网浙江省电力", OrgLevel::Province),
                &sys,
            )
            .await
            .unwrap()
            .id;
        let city_x = store
            .create_org_unit(
                unit(Some(province), "3301", "杭州供电公司", OrgLevel::City),
                &sys,
            )
            .await
            .unwrap()
            .id;
        let county_a = store
            .create_org_unit(
                unit(Some(city_x), "330106", "西湖供电", OrgLevel::County),
                &sys,
            )
            .await
            .unwrap()
            .id;
        let county_b = store
            .create_org_unit(
                unit(Some(city_x), "330108", "滨江供电", OrgLevel::County),
                &sys,
            )
            .await
            .unwrap()
            .id;
        let units = Units {
            hq,
            province,
            city_x,
            county_a,
            county_b,
        };
        let mut people = HashMap::new();
        for (key, roles, unit_of) in STAFF {
            let staff = store
                .create_staff(
                    NewStaff {
                        username: Username::parse(&key.replace('_', ".")).unwrap(),
                        display_name: key.to_owned(),
                        org_unit_id: unit_of(&units),
                        department_id: None,
                        roles: Roles::new(roles.to_vec()).unwrap(),
                        password_hash: password_hash().to_owned(),
                    },
                    &sys,
                )
                .await
                .unwrap();
            let (token, hash) = kefu_server::token::new_api_token();
            store
                .create_api_token(staff.id, "test", &hash, &sys)
                .await
                .unwrap();
            people.insert(
                key,
                Person {
                    id: staff.id,
                    token,
                },
            );
        }
        let state = AppState::new(store.clone(), config);
        let app = app(state.clone());
        TestApp {
            store,
            state,
            app,
            units,
            people,
        }
    }

    /// A seeded person by key (`agent_a`, `supervisor_x`, …).
    pub fn person(&self, key: &str) -> &Person {
        &self.people[key]
    }

    /// Sends a request with an optional JSON body.
    pub async fn send(&self, method: Method, uri: &str, auth: &Auth, body: Option<Value>) -> Resp {
        let body = body.map(|v| v.to_string());
        self.send_raw(method, uri, auth, body.as_deref(), "application/json")
            .await
    }

    /// Sends a request with a raw body and content type.
    pub async fn send_raw(
        &self,
        method: Method,
        uri: &str,
        auth: &Auth,
        body: Option<&str>,
        content_type: &str,
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(uri);
        match auth {
            Auth::None => {}
            Auth::Bearer(t) => req = req.header(header::AUTHORIZATION, format!("Bearer {t}")),
            Auth::Cookie(c, csrf) => {
                req = req.header(header::COOKIE, format!("kefu_session={c}"));
                if let Some(csrf) = csrf {
                    req = req.header("x-csrf-token", csrf);
                }
            }
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(b.to_owned())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, uri: &str, auth: &Auth) -> Resp {
        self.send(Method::GET, uri, auth, None).await
    }

    pub async fn post(&self, uri: &str, auth: &Auth, body: Value) -> Resp {
        self.send(Method::POST, uri, auth, Some(body)).await
    }

    pub async fn put(&self, uri: &str, auth: &Auth, body: Value) -> Resp {
        self.send(Method::PUT, uri, auth, Some(body)).await
    }

    /// Signs in; returns the response and (cookie value, csrf token) on success.
    pub async fn login(&self, username: &str, password: &str) -> (Resp, Option<(String, String)>) {
        let r = self
            .post(
                "/api/v1/auth/login",
                &Auth::None,
                json!({"username": username, "password": password}),
            )
            .await;
        let cookie = r
            .headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("kefu_session="))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        let csrf = r.body["csrf_token"].as_str().map(str::to_owned);
        let session = cookie.zip(csrf);
        (r, session)
    }

    /// Creates a customer as `who` (must succeed); returns its JSON.
    pub async fn create_customer(&self, who: &str, body: Value) -> Value {
        let r = self
            .post("/api/v1/customers", &self.person(who).bearer(), body)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body
    }

    /// How many customers the store holds.
    pub async fn customer_count(&self) -> u64 {
        self.store.count_customers().await.unwrap()
    }
}

/// A valid resident ID for area 330106, born 1980-01-01, with sequence `seq` (0..=999).
pub fn resident_id(seq: u32) -> String {
    let first17 = format!("33010619800101{seq:03}");
    let mut arr = [0u8; 17];
    arr.copy_from_slice(first17.as_bytes());
    format!("{first17}{}", resident_check_char(&arr))
}

/// A valid customer body in `unit`, numbered `n`.
pub fn customer_body(n: u32, unit: OrgUnitId) -> Value {
    json!({
        "account_number": format!("33010600{n:04}"),
        "name": format!("王秀英{n}"),
        "id_document": {"kind": "resident_id", "number": resident_id(n)},
        "phones": [format!("1380013{n:04}")],
        "address": "杭州市西湖区文三路 100 号",
        "supply_unit_id": unit.0,
        "grid": "urban",
        "usage_category": "residential",
        "voltage": "220v",
        "tags": ["老人"],
        "special_dates": [{"kind": "birthday", "date": "1980-01-01"}]
    })
}
