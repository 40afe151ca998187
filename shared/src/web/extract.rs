//! Extractors that turn an axum request into what handlers work with.

use axum::extract::FromRequest;

use super::error::ApiError;
use super::{Request, Response, StatusCode};

/// API Gateway's payload limit; larger bodies are refused the same way locally.
pub const MAX_BODY: usize = 6 * 1024 * 1024;

/// The whole request with its body read, for handlers that read headers, cookies and the
/// body together.
pub struct Req(pub Request);

impl<S: Send + Sync> FromRequest<S> for Req {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, Self::Rejection> {
        read(req, MAX_BODY).await.map(Self)
    }
}

/// The admin API's JSON bodies: far below API Gateway's limit, so one request cannot make
/// the server parse and validate megabytes.
pub const MAX_JSON_BODY: usize = 256 * 1024;

/// Reads the body, up to `limit` bytes: 413 past it, 408 when the client stops sending.
async fn read(req: axum::extract::Request, limit: usize) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(Request::from_parts(parts, bytes)),
        Err(e) if is_too_large(&e) => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is larger than {limit} bytes"),
        )
        .into_response()),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "incomplete_body",
            "the request body did not arrive in full",
        )
        .into_response()),
    }
}

fn is_too_large(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// A JSON body, refused with [`super::request::json`]'s 400 answers when it is not JSON or
/// not the expected shape.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, Self::Rejection> {
        let req = read(req, MAX_JSON_BODY).await?;
        super::request::json(&req).map(Self).map_err(ApiError::into_response)
    }
}

/// Deserializes form or query parameters into `T`. A name given once is a string; a
/// repeated name is a sequence for `Vec` fields and reads as "" for text fields, like
/// [`super::request::Params::text`], so `a=1&a=2` cannot smuggle a second value past a check.
/// Checkbox-style `bool` fields accept `true`/`on`/`1` and `false`/`off`/`0`/"".
pub fn from_params<T: serde::de::DeserializeOwned>(
    params: &super::request::Params,
) -> Result<T, serde::de::value::Error> {
    let mut grouped: Vec<(String, Values)> = Vec::new();
    for (name, value) in params.pairs() {
        match grouped.iter_mut().find(|(n, _)| n == name) {
            Some((_, values)) => values.0.push(value.to_owned()),
            None => grouped.push((name.to_owned(), Values(vec![value.to_owned()]))),
        }
    }
    T::deserialize(serde::de::value::MapDeserializer::new(grouped.into_iter()))
}

/// The values of one parameter name, as a serde deserializer.
struct Values(Vec<String>);

impl Values {
    /// The one value; a repeated parameter reads as empty.
    fn single(self) -> String {
        let mut values = self.0;
        if values.len() == 1 { values.pop().unwrap_or_default() } else { String::new() }
    }
}

impl<'de> serde::de::IntoDeserializer<'de, serde::de::value::Error> for Values {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> serde::Deserializer<'de> for Values {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if self.0.len() == 1 { visitor.visit_string(self.single()) } else { self.deserialize_seq(visitor) }
    }

    fn deserialize_str<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_string(self.single())
    }

    fn deserialize_string<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_string(self.single())
    }

    fn deserialize_bool<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.single().as_str() {
            "true" | "on" | "1" => visitor.visit_bool(true),
            "false" | "off" | "0" | "" => visitor.visit_bool(false),
            other => Err(serde::de::Error::invalid_value(serde::de::Unexpected::Str(other), &"a checkbox value")),
        }
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_seq<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_seq(serde::de::value::SeqDeserializer::new(self.0.into_iter()))
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_enum(serde::de::IntoDeserializer::<Self::Error>::into_deserializer(self.single()))
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit unit_struct
        tuple tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::request::Params;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Form {
        #[serde(default)]
        name: String,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        on: bool,
        note: Option<String>,
    }

    #[test]
    fn params_deserialize_like_params_read() {
        let form: Form = from_params(&Params::parse("name=a&name=b&tags=x&on=on&note=n&extra=1")).unwrap();
        assert_eq!(form, Form { name: String::new(), tags: vec!["x".into()], on: true, note: Some("n".into()) });
        let form: Form = from_params(&Params::parse("tags=x&tags=y")).unwrap();
        assert_eq!((form.tags.len(), form.on, form.note), (2, false, None));
    }
}
