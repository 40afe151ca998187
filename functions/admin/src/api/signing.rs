//! `/admin/api/signing`: which algorithm signs ID tokens, and RSA key rotation.

use gatehouse::app::AppState;
use gatehouse::oidc::signing::{SigningAlgorithm, SigningConfig, SigningError};
use gatehouse::services::signing::{save_signing_config, signing_config};
use gatehouse::web::error::ApiError;
use gatehouse::web::request::json;
use gatehouse::web::response::ok_json;
use gatehouse::web::{Method, Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SigningBody {
    algorithm: SigningAlgorithm,
}

fn view(config: &SigningConfig) -> Value {
    let stamp = |s: i64| gatehouse::clock::rfc3339(gatehouse::clock::from_unix(s));
    json!({
        "algorithm": config.algorithm,
        "keys": config.keys.iter().map(|k| json!({
            "kid": k.kid,
            "alg": k.alg,
            "created_at": stamp(k.created_at),
            "retired_at": k.retired_at.map(stamp),
            "active": k.retired_at.is_none() && k.alg == config.algorithm,
        })).collect::<Vec<_>>(),
    })
}

fn signing_error(e: SigningError) -> ApiError {
    match e {
        SigningError::NoActiveKey(message) => ApiError::conflict(message),
        other => {
            tracing::error!(error = %other, "signing key operation failed");
            ApiError::internal()
        }
    }
}

pub async fn route(state: &AppState, req: &Request, tail: &[&str], now: OffsetDateTime) -> Result<Response, ApiError> {
    match (req.method(), tail) {
        (&Method::GET, [] | [""]) => Ok(ok_json(&view(&signing_config(&state.stores).await?))),
        (&Method::PUT, [] | [""]) => {
            let body: SigningBody = json(req)?;
            let mut config = signing_config(&state.stores).await?;
            config.set_algorithm(body.algorithm, now).map_err(signing_error)?;
            save_signing_config(&state.stores, &state.signer, &config).await?;
            tracing::info!(algorithm = body.algorithm.name(), "signing algorithm set");
            Ok(ok_json(&view(&config)))
        }
        (&Method::POST, ["rotate"]) => {
            let mut config = signing_config(&state.stores).await?;
            config.rotate(now).map_err(signing_error)?;
            save_signing_config(&state.stores, &state.signer, &config).await?;
            tracing::info!("signing key rotated");
            Ok(ok_json(&view(&config)))
        }
        (_, [] | [""] | ["rotate"]) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::not_found("this API path")),
    }
}
