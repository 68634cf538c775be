//! Configuration: one `Config` built from four layers, each later one winning field by field:
//! built-in defaults < `kefu.toml` (working directory, or `--config FILE`) < `KEFU_*`
//! environment variables < command-line flags. Every layer is a `ConfigLayer` of `Option`s, so
//! the merge is explicit and unit-tested.
//!
//! The database URL is a secret (it may carry a password): it lives in a `DatabaseUrl` whose
//! `Debug` and `Display` redact the password.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::FixedOffset;
use serde::Deserialize;

/// The default listen address (loopback: exposing kefu is a deliberate choice).
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// The default data directory (holds `kefu.db` when SQLite is used).
pub const DEFAULT_DATA_DIR: &str = "./kefu-data";
/// The configuration file looked for in the working directory.
pub const CONFIG_FILE: &str = "kefu.toml";
/// The SQLite file inside the data directory.
pub const SQLITE_FILE: &str = "kefu.db";
/// The centre's offset from UTC (*default*): Asia/Shanghai, which has kept +08:00 all year
/// since 1991, so a fixed offset is exact.
pub const DEFAULT_UTC_OFFSET: &str = "+08:00";

/// A database URL, redacted whenever it is shown.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Wraps a URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL with its secret, for connecting only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it names a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.0.starts_with("postgres://") || self.0.starts_with("postgresql://")
    }

    /// The URL with any password replaced by `***` (userinfo and `password=` parameters).
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                let start = rest_start + colon + 1;
                out.replace_range(start..rest_start + at, "***");
            }
        }
    }
    // `?password=…` / `&password=…` query parameters.
    let lower = out.to_ascii_lowercase();
    if let Some(p) = lower.find("password=") {
        let start = p + "password=".len();
        let end = out[start..].find('&').map_or(out.len(), |i| start + i);
        out.replace_range(start..end, "***");
    }
    out
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// One layer of settings; `None` means "not set here".
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigLayer {
    /// Listen address (`KEFU_ADDR`, `--addr`).
    pub addr: Option<String>,
    /// Data directory (`KEFU_DATA`, `--data`).
    pub data: Option<PathBuf>,
    /// Database URL (`KEFU_DATABASE_URL`, `--database-url`).
    pub database_url: Option<String>,
    /// PostgreSQL schema to use instead of `public` (`KEFU_DATABASE_SCHEMA`, `--database-schema`).
    pub database_schema: Option<String>,
    /// Mark session cookies `Secure` (`KEFU_SECURE_COOKIES`).
    pub secure_cookies: Option<bool>,
    /// Create the demo province on an empty store (`KEFU_DEMO`, `serve --demo`).
    pub demo: Option<bool>,
    /// Customers created by `serve --demo` (`KEFU_DEMO_CUSTOMERS`, `--demo-customers`).
    pub demo_customers: Option<usize>,
    /// Seed of the demo generator (`KEFU_DEMO_SEED`, `--demo-seed`).
    pub demo_seed: Option<u64>,
    /// Log filter, `tracing` syntax (`KEFU_LOG`, falling back to `RUST_LOG`).
    pub log: Option<String>,
    /// The `[calendar]` table.
    pub calendar: Option<CalendarLayer>,
    /// Seconds between SLA sweeps of `serve`, 0 to leave sweeping to other processes
    /// (`KEFU_SLA_SWEEP_SECONDS`).
    pub sla_sweep_seconds: Option<u64>,
    /// How long a staff login lasts, in seconds (`KEFU_SESSION_TTL_SECONDS`).
    pub session_ttl_seconds: Option<u64>,
}

/// The `[calendar]` table of `kefu.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarLayer {
    /// The centre's offset from UTC, `+08:00` (`KEFU_CALENDAR_UTC_OFFSET`,
    /// `--calendar-utc-offset`): dates, working hours and deadlines are local to it.
    pub utc_offset: Option<String>,
}

/// Parses a UTC offset written `+HH:MM` or `-HH:MM` (`Z` for UTC), within ±23:59.
pub fn parse_utc_offset(raw: &str) -> anyhow::Result<FixedOffset> {
    let s = raw.trim();
    let bad = || {
        anyhow::anyhow!(
            "calendar.utc_offset '{raw}' is not a UTC offset; write it as +HH:MM, e.g. +08:00"
        )
    };
    if s.eq_ignore_ascii_case("z") {
        return FixedOffset::east_opt(0).ok_or_else(bad);
    }
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: i32 = h.parse().map_err(|_| bad())?;
    let m: i32 = m.parse().map_err(|_| bad())?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60)).ok_or_else(bad)
}

fn parse_env<T: std::str::FromStr>(name: &str, value: String) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    value
        .trim()
        .parse()
        .map_err(|e| anyhow::anyhow!("environment variable {name}: {e}"))
}

fn parse_bool(name: &str, value: &str) -> anyhow::Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => anyhow::bail!("environment variable {name}: '{other}' is not true or false"),
    }
}

impl ConfigLayer {
    /// Reads a `kefu.toml`.
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        Ok(toml::from_str(text)?)
    }

    /// Reads the `KEFU_*` variables from `vars` (pass `std::env::vars()`); `RUST_LOG` is the
    /// fallback log filter. Empty values count as unset.
    pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> anyhow::Result<Self> {
        let mut layer = Self::default();
        let mut rust_log = None;
        for (name, value) in vars {
            if value.trim().is_empty() {
                continue;
            }
            match name.as_str() {
                "KEFU_ADDR" => layer.addr = Some(value),
                "KEFU_DATA" => layer.data = Some(PathBuf::from(value)),
                "KEFU_DATABASE_URL" => layer.database_url = Some(value),
                "KEFU_DATABASE_SCHEMA" => layer.database_schema = Some(value),
                "KEFU_SECURE_COOKIES" => {
                    layer.secure_cookies = Some(parse_bool(&name, &value)?);
                }
                "KEFU_DEMO" => layer.demo = Some(parse_bool(&name, &value)?),
                "KEFU_DEMO_CUSTOMERS" => layer.demo_customers = Some(parse_env(&name, value)?),
                "KEFU_DEMO_SEED" => layer.demo_seed = Some(parse_env(&name, value)?),
                "KEFU_LOG" => layer.log = Some(value),
                "KEFU_CALENDAR_UTC_OFFSET" => {
                    layer.calendar = Some(CalendarLayer {
                        utc_offset: Some(value),
                    });
                }
                "KEFU_SLA_SWEEP_SECONDS" => {
                    layer.sla_sweep_seconds = Some(parse_env(&name, value)?);
                }
                "KEFU_SESSION_TTL_SECONDS" => {
                    layer.session_ttl_seconds = Some(parse_env(&name, value)?);
                }
                "RUST_LOG" => rust_log = Some(value),
                _ => {}
            }
        }
        layer.log = layer.log.or(rust_log);
        Ok(layer)
    }

    /// This layer over `lower`: each field set here wins.
    pub fn over(self, lower: ConfigLayer) -> ConfigLayer {
        ConfigLayer {
            addr: self.addr.or(lower.addr),
            data: self.data.or(lower.data),
            database_url: self.database_url.or(lower.database_url),
            database_schema: self.database_schema.or(lower.database_schema),
            secure_cookies: self.secure_cookies.or(lower.secure_cookies),
            demo: self.demo.or(lower.demo),
            demo_customers: self.demo_customers.or(lower.demo_customers),
            demo_seed: self.demo_seed.or(lower.demo_seed),
            log: self.log.or(lower.log),
            calendar: match (self.calendar, lower.calendar) {
                (Some(a), Some(b)) => Some(CalendarLayer {
                    utc_offset: a.utc_offset.or(b.utc_offset),
                }),
                (a, b) => a.or(b),
            },
            sla_sweep_seconds: self.sla_sweep_seconds.or(lower.sla_sweep_seconds),
            session_ttl_seconds: self.session_ttl_seconds.or(lower.session_ttl_seconds),
        }
    }
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database, optionally in a named schema.
    Postgres {
        /// The connection URL.
        url: DatabaseUrl,
        /// The schema, when not `public`.
        schema: Option<String>,
    },
}

impl Database {
    /// A description safe for logs.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(path) => format!("sqlite {}", path.display()),
            Database::Postgres { url, schema: None } => format!("postgres {url}"),
            Database::Postgres {
                url,
                schema: Some(s),
            } => format!("postgres {url} (schema {s})"),
        }
    }
}

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Listen address.
    pub addr: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// The database to use.
    pub database: Database,
    /// Mark session cookies `Secure`.
    pub secure_cookies: bool,
    /// Create the demo province on an empty store when serving.
    pub demo: bool,
    /// Customers created by `serve --demo`.
    pub demo_customers: usize,
    /// Seed of the demo generator.
    pub demo_seed: u64,
    /// Log filter.
    pub log: String,
    /// The centre's offset from UTC (`calendar.utc_offset`).
    pub utc_offset: FixedOffset,
    /// Time between SLA sweeps; `None` when this process does not sweep.
    pub sla_sweep_interval: Option<std::time::Duration>,
    /// How long a staff login lasts.
    pub session_ttl: std::time::Duration,
}

/// How long a staff login lasts when nothing is configured (a long shift).
pub const DEFAULT_SESSION_TTL_SECONDS: u64 = 12 * 3600;
/// The longest login allowed (a week).
pub const MAX_SESSION_TTL_SECONDS: u64 = 7 * 24 * 3600;

/// Seconds between SLA sweeps when none is configured.
pub const DEFAULT_SLA_SWEEP_SECONDS: u64 = 30;
/// The longest interval between SLA sweeps (an hour).
pub const MAX_SLA_SWEEP_SECONDS: u64 = 3600;

/// The log filter when none is configured.
pub const DEFAULT_LOG: &str = "info,sqlx=warn";

impl Config {
    /// Merges the layers (file < env < flags) over the defaults.
    pub fn resolve(
        file: ConfigLayer,
        env: ConfigLayer,
        flags: ConfigLayer,
    ) -> anyhow::Result<Config> {
        let l = flags.over(env.over(file));
        let addr_text = l.addr.unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr = addr_text
            .parse()
            .with_context(|| format!("'{addr_text}' is not a listen address (use HOST:PORT)"))?;
        let data_dir = l.data.unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database = match l.database_url.filter(|u| !u.trim().is_empty()) {
            Some(url) => {
                let url = DatabaseUrl::new(url);
                if !url.is_postgres() {
                    anyhow::bail!(
                        "database URL {url} is not supported: use postgres://… for PostgreSQL, \
                         or leave it unset for SQLite in the data directory"
                    );
                }
                Database::Postgres {
                    url,
                    schema: l.database_schema.filter(|s| !s.trim().is_empty()),
                }
            }
            None => Database::Sqlite(data_dir.join(SQLITE_FILE)),
        };
        let utc_offset = parse_utc_offset(
            l.calendar
                .and_then(|c| c.utc_offset)
                .as_deref()
                .unwrap_or(DEFAULT_UTC_OFFSET),
        )?;
        let sweep = l.sla_sweep_seconds.unwrap_or(DEFAULT_SLA_SWEEP_SECONDS);
        if sweep > MAX_SLA_SWEEP_SECONDS {
            anyhow::bail!(
                "sla_sweep_seconds {sweep} is too long: warnings would come late; use 1 to \
                 {MAX_SLA_SWEEP_SECONDS}, or 0 when another process sweeps"
            );
        }
        let ttl = l.session_ttl_seconds.unwrap_or(DEFAULT_SESSION_TTL_SECONDS);
        if ttl == 0 || ttl > MAX_SESSION_TTL_SECONDS {
            anyhow::bail!(
                "session_ttl_seconds {ttl} is out of range: use 1 to {MAX_SESSION_TTL_SECONDS} \
                 (default {DEFAULT_SESSION_TTL_SECONDS}, twelve hours)"
            );
        }
        Ok(Config {
            session_ttl: std::time::Duration::from_secs(ttl),
            utc_offset,
            sla_sweep_interval: (sweep > 0).then(|| std::time::Duration::from_secs(sweep)),
            addr,
            data_dir,
            database,
            secure_cookies: l.secure_cookies.unwrap_or(false),
            demo: l.demo.unwrap_or(false),
            demo_customers: l
                .demo_customers
                .unwrap_or(crate::demo::DEFAULT_CUSTOMERS)
                .min(crate::demo::MAX_CUSTOMERS),
            demo_seed: l.demo_seed.unwrap_or(crate::demo::DEFAULT_SEED),
            log: l.log.unwrap_or_else(|| DEFAULT_LOG.to_owned()),
        })
    }

    /// Loads the file layer: `explicit` must exist; otherwise `kefu.toml` in `dir` if present.
    pub fn file_layer(explicit: Option<&Path>, dir: &Path) -> anyhow::Result<ConfigLayer> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let p = dir.join(CONFIG_FILE);
                if !p.exists() {
                    return Ok(ConfigLayer::default());
                }
                p
            }
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        ConfigLayer::from_toml(&text).with_context(|| format!("in {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> ConfigLayer {
        ConfigLayer::from_env(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
        .unwrap_or_default()
    }

    fn resolve(file: ConfigLayer, env: ConfigLayer, flags: ConfigLayer) -> Config {
        match Config::resolve(file, env, flags) {
            Ok(c) => c,
            Err(e) => panic!("{e:#}"),
        }
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = resolve(
            ConfigLayer::default(),
            ConfigLayer::default(),
            ConfigLayer::default(),
        );
        assert_eq!(c.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(
            c.database,
            Database::Sqlite(PathBuf::from("./kefu-data/kefu.db"))
        );
        assert_eq!(c.log, DEFAULT_LOG);
    }

    #[test]
    fn env_beats_file_and_flags_beat_env() {
        let file = ConfigLayer::from_toml(
            "addr = \"127.0.0.1:1000\"\ndata = \"/srv/file\"\ndemo_customers = 10\n",
        )
        .unwrap_or_default();
        let env = env(&[("KEFU_ADDR", "127.0.0.1:2000"), ("KEFU_DATA", "/srv/env")]);
        let flags = ConfigLayer {
            addr: Some("127.0.0.1:3000".into()),
            ..ConfigLayer::default()
        };
        let c = resolve(file.clone(), env.clone(), flags);
        assert_eq!(c.addr.port(), 3000, "flag wins");
        assert_eq!(c.data_dir, PathBuf::from("/srv/env"), "env beats file");
        assert_eq!(c.demo_customers, 10, "file beats default");
        let c = resolve(file, env, ConfigLayer::default());
        assert_eq!(c.addr.port(), 2000);
    }

    #[test]
    fn a_postgres_url_selects_postgres_and_anything_else_is_refused() {
        let e = env(&[
            ("KEFU_DATABASE_URL", "postgres://u:pw@db/kefu"),
            ("KEFU_DATABASE_SCHEMA", "s1"),
        ]);
        let c = resolve(ConfigLayer::default(), e, ConfigLayer::default());
        assert!(matches!(
            c.database,
            Database::Postgres { ref schema, .. } if schema.as_deref() == Some("s1")
        ));
        assert!(!c.database.describe().contains("pw"));
        let bad = ConfigLayer {
            database_url: Some("mysql://x".into()),
            ..ConfigLayer::default()
        };
        assert!(Config::resolve(ConfigLayer::default(), ConfigLayer::default(), bad).is_err());
    }

    #[test]
    fn kefu_log_beats_rust_log_and_unknown_file_keys_are_refused() {
        assert_eq!(
            env(&[("RUST_LOG", "debug"), ("KEFU_LOG", "warn")]).log,
            Some("warn".into())
        );
        assert_eq!(env(&[("RUST_LOG", "debug")]).log, Some("debug".into()));
        assert!(ConfigLayer::from_toml("adress = \"x\"").is_err());
        assert!(ConfigLayer::from_env([("KEFU_DEMO_SEED".into(), "abc".into())]).is_err());
        assert_eq!(env(&[("KEFU_DEMO", "1")]).demo, Some(true));
        assert!(ConfigLayer::from_env([("KEFU_DEMO".into(), "maybe".into())]).is_err());
    }

    #[test]
    fn a_login_lasts_twelve_hours_unless_configured_within_a_week() {
        let d = ConfigLayer::default;
        let c = Config::resolve(d(), d(), d()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.session_ttl, std::time::Duration::from_secs(12 * 3600));
        let short = env(&[("KEFU_SESSION_TTL_SECONDS", "5")]);
        let c = Config::resolve(d(), short, d()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.session_ttl, std::time::Duration::from_secs(5));
        let file = ConfigLayer::from_toml("session_ttl_seconds = 600\n").unwrap_or_default();
        let c = Config::resolve(file, d(), d()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.session_ttl, std::time::Duration::from_secs(600));
        assert!(Config::resolve(d(), env(&[("KEFU_SESSION_TTL_SECONDS", "0")]), d()).is_err());
    }

    #[test]
    fn the_sla_sweep_runs_every_30_seconds_unless_turned_off() {
        let d = ConfigLayer::default;
        let c = Config::resolve(d(), d(), d()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.sla_sweep_interval,
            Some(std::time::Duration::from_secs(30))
        );
        let off = env(&[("KEFU_SLA_SWEEP_SECONDS", "0")]);
        let c = Config::resolve(d(), off, d()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.sla_sweep_interval, None);
        let file = ConfigLayer::from_toml("sla_sweep_seconds = 10\n").unwrap_or_default();
        let c = Config::resolve(file, d(), d()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.sla_sweep_interval,
            Some(std::time::Duration::from_secs(10))
        );
        let long = env(&[("KEFU_SLA_SWEEP_SECONDS", "86400")]);
        assert!(Config::resolve(d(), long, d()).is_err());
    }

    #[test]
    fn the_calendar_offset_defaults_to_beijing_and_layers_like_the_rest() {
        let none = ConfigLayer::default;
        let c = resolve(none(), none(), none());
        assert_eq!(c.utc_offset.local_minus_utc(), 8 * 3600);
        let file =
            ConfigLayer::from_toml("[calendar]\nutc_offset = \"+07:00\"\n").unwrap_or_default();
        assert_eq!(
            resolve(file.clone(), none(), none())
                .utc_offset
                .local_minus_utc(),
            7 * 3600,
            "file beats default"
        );
        let e = env(&[("KEFU_CALENDAR_UTC_OFFSET", "+06:30")]);
        let c = resolve(file.clone(), e.clone(), none());
        assert_eq!(
            c.utc_offset.local_minus_utc(),
            6 * 3600 + 1800,
            "env beats file"
        );
        let flags = ConfigLayer {
            calendar: Some(CalendarLayer {
                utc_offset: Some("-05:00".into()),
            }),
            ..ConfigLayer::default()
        };
        let c = resolve(file, e, flags);
        assert_eq!(c.utc_offset.local_minus_utc(), -5 * 3600, "flag beats env");
        for bad in ["8", "+8:00", "+24:00", "Asia/Shanghai", "+08:60"] {
            assert!(parse_utc_offset(bad).is_err(), "{bad}");
        }
        assert!(ConfigLayer::from_toml("[calendar]\nzone = \"x\"\n").is_err());
        let bad = env(&[("KEFU_CALENDAR_UTC_OFFSET", "CST")]);
        assert!(Config::resolve(none(), bad, none()).is_err());
    }

    #[test]
    fn passwords_never_show() {
        for (url, shown) in [
            (
                "postgres://kefu:s3cret@db:5432/kefu",
                "postgres://kefu:***@db:5432/kefu",
            ),
            (
                "postgres://postgres@127.0.0.1:5432/test",
                "postgres://postgres@127.0.0.1:5432/test",
            ),
            (
                "postgresql://db/kefu?user=k&password=s3cret&sslmode=require",
                "postgresql://db/kefu?user=k&password=***&sslmode=require",
            ),
            ("postgres://u:p@ss@db/x", "postgres://u:***@db/x"),
        ] {
            let u = DatabaseUrl::new(url);
            assert_eq!(u.redacted(), shown);
            assert!(!format!("{u:?}").contains("s3cret"));
        }
    }
}
