//! Request extractors that refuse bad input with problem+json naming the offending field:
//! JSON bodies (malformed, unknown or missing fields, too large), query strings and path ids.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode};

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON request body. Every failure is a problem+json: 415 without a JSON content type,
/// 413 beyond [`MAX_BODY_BYTES`], 400 naming the field serde stumbled on.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mt| {
                let mt = mt.trim().to_ascii_lowercase();
                mt == "application/json"
                    || (mt.starts_with("application/") && mt.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with 'Content-Type: application/json'",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(JsonBody)
    }
}

fn body_rejection(r: BytesRejection) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("a request body may have at most {MAX_BODY_BYTES} bytes"),
        )
    } else {
        ApiError::field("body", "the request body could not be read")
    }
}

/// Parses JSON, naming the field of the first error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = field_of(&e.path().to_string(), &e.inner().to_string());
        let reason = e.inner().to_string();
        ApiError::field(field, reason)
    })?;
    de.end()
        .map_err(|e| ApiError::field("body", format!("trailing data after the JSON value: {e}")))?;
    Ok(value)
}

/// The field an error is about: serde's path, refined by the name in "unknown field `x`" or
/// "missing field `x`" messages (which serde reports at the enclosing object).
fn field_of(path: &str, message: &str) -> String {
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|p| message.split_once(p))
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name.to_owned());
    let base = if path == "." || path == "?" { "" } else { path };
    match named {
        Some(name) if base.is_empty() => name,
        Some(name) if base.ends_with(&name) => base.to_owned(),
        Some(name) => format!("{base}.{name}"),
        None if base.is_empty() => "body".to_owned(),
        None => base.to_owned(),
    }
}

/// A query string, refused with 400 naming the parameter (unknown parameters too, when the
/// target type denies them).
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| {
                let field = field_of(&e.path().to_string(), &e.inner().to_string());
                let field = if field == "body" {
                    "query".into()
                } else {
                    field
                };
                ApiError::field(field, e.inner().to_string())
            })
    }
}

/// A numeric id in the path (`/customers/{id}`); anything else is a 400 naming `id`.
#[derive(Debug, Clone, Copy)]
pub struct PathId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::field("id", "the path needs an id"))?;
        match raw.parse::<i64>() {
            Ok(id) if id > 0 => Ok(PathId(id)),
            _ => Err(ApiError::field(
                "id",
                format!("'{raw}' is not an id; ids are positive integers"),
            )),
        }
    }
}

/// The client's address from the socket peer, when the server was started with connect info
/// (`serve` does; in-process tests using `oneshot` have none, and IP-based limits are skipped).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        number: String,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        doc: Option<Inner>,
        phones: Vec<u32>,
    }

    fn field(json: &str) -> String {
        parse_json::<Outer>(json.as_bytes())
            .err()
            .map(|e| e.problem().errors[0].field.clone())
            .unwrap_or_default()
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(field(r#"{"name":"a","phones":[],"bogus":1}"#), "bogus");
        assert_eq!(field(r#"{"phones":[]}"#), "name");
        assert_eq!(field(r#"{"name":"a","phones":[1,"x"]}"#), "phones[1]");
        assert_eq!(
            field(r#"{"name":"a","phones":[],"doc":{"number":"1","x":2}}"#),
            "doc.x"
        );
        assert_eq!(field(r#"{"name":"a","phones":[]"#), "body");
        assert_eq!(field(r#"{"name":5,"phones":[]}"#), "name");
    }
}
