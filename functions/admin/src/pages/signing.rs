//! `/admin/signing`: which algorithm signs ID tokens (HS512 with each registration's own key,
//! the seed's default, or ES256 (recommended), EdDSA, RS256 or RS512 with Gatehouse's keys),
//! the keys, and rotation.

use axum::Router;
use axum::routing::get;
use gatehouse::oidc::signing::{RETIRED_KEY_GRACE, SigningAlgorithm, SigningConfig};
use gatehouse::validation::Invalid;
use gatehouse::web::error::PageError;
use gatehouse::web::response::see_other;
use gatehouse::web::{Response, SharedState, StatusCode};
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    Confirm, CsrfForm, Ctx, FormError, NoFields, Section, admin_page, confirm_page, csrf_input, error_summary,
};
use crate::service::AdminError;
use crate::service::signing as service;

const ALGORITHMS: &[(SigningAlgorithm, &str)] = &[
    (
        SigningAlgorithm::HS512,
        "HMAC SHA 512 with each app registration's own JWT Signing Key (the default), or with its Client Secret where the registration chooses that (HS512 ID Token Key; what standard libraries expect). The third party verifies ID tokens with the key its registration names.",
    ),
    (
        SigningAlgorithm::ES256,
        "Recommended for new deployments. ECDSA P-256 SHA 256 with Gatehouse's own key pair: the fastest to sign and the smallest keys and tokens. Apps verify ID tokens with the public keys published at /jwks; registrations no longer show a JWT Signing Key.",
    ),
    (
        SigningAlgorithm::EdDSA,
        "Ed25519 with Gatehouse's own key pair, published at /jwks. Fast and compact, but some older client libraries do not verify it yet.",
    ),
    (
        SigningAlgorithm::RS256,
        "RSA SHA 256 with Gatehouse's own key pair, published at /jwks: for apps whose libraries only know RSA. Slower to sign than ES256.",
    ),
    (SigningAlgorithm::RS512, "RSA SHA 512 with Gatehouse's own key pair, published at /jwks like RS256."),
];

const HS512_ROTATE: &str = "Rotation is for Gatehouse's own keys (ES256, EdDSA, RS256, RS512): with HS512, regenerate a registration's JWT Signing Key on its page";

fn grace_hours() -> i64 {
    RETIRED_KEY_GRACE.whole_hours()
}

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route("/admin/signing", get(read).post(set_algorithm))
        .route("/admin/signing/rotate", get(rotate_form).post(rotate))
}

#[derive(Deserialize)]
struct AlgorithmForm {
    #[serde(default)]
    algorithm: String,
}

async fn read(ctx: Ctx) -> Result<Response, PageError> {
    Ok(show(&ctx, StatusCode::OK, &service::get(&ctx.state).await?, None))
}

async fn set_algorithm(ctx: Ctx, CsrfForm(form): CsrfForm<AlgorithmForm>) -> Result<Response, PageError> {
    let Some(algorithm) = ALGORITHMS.iter().map(|(a, _)| *a).find(|a| a.name() == form.algorithm) else {
        let error = FormError::invalid(Invalid::new("algorithm", "choose HS512, ES256, EdDSA, RS256 or RS512"));
        return Ok(show(&ctx, error.status, &service::get(&ctx.state).await?, Some(&error)));
    };
    service::set_algorithm(&ctx.state, algorithm, ctx.now).await?;
    Ok(see_other("/admin/signing?done=signing-saved"))
}

async fn rotate_form(ctx: Ctx) -> Result<Response, PageError> {
    Ok(if service::get(&ctx.state).await?.algorithm.is_asymmetric() {
        confirm_rotate(&ctx, StatusCode::OK, None)
    } else {
        confirm_rotate(&ctx, StatusCode::CONFLICT, Some(HS512_ROTATE))
    })
}

async fn rotate(ctx: Ctx, _: CsrfForm<NoFields>) -> Result<Response, PageError> {
    match service::rotate(&ctx.state, ctx.now).await {
        Ok(_) => Ok(see_other("/admin/signing?done=signing-rotated")),
        Err(AdminError::Conflict(message)) => Ok(confirm_rotate(&ctx, StatusCode::CONFLICT, Some(&message))),
        Err(e) => Err(e.into()),
    }
}

fn show(ctx: &Ctx, status: StatusCode, config: &SigningConfig, error: Option<&FormError>) -> Response {
    let body = html! {
        h1 { "Signing keys" }
        p.hint { "How Gatehouse signs the ID tokens it issues to app registrations." }
        (error_summary(error, |_| "Algorithm".to_owned()))
        form.card method="post" action="/admin/signing" {
            (csrf_input(ctx))
            div role="radiogroup" aria-labelledby="algorithm-label" {
                h2 id="algorithm-label" { "Algorithm" }
                @for (algorithm, description) in ALGORITHMS {
                    @let id = format!("algorithm-{}", algorithm.name());
                    label.check {
                        input id=(id) type="radio" name="algorithm" value=(algorithm.name()) checked[config.algorithm == *algorithm] aria-describedby=(format!("{id}-hint"));
                        strong { (algorithm.name()) }
                    }
                    p.hint id=(format!("{id}-hint")) { (description) }
                }
            }
            div.warning role="note" { strong { "Warning! " } "Changing the algorithm changes how every app verifies Gatehouse's ID tokens. Tell the third parties before you change it." }
            div.actions { button type="submit" { "Save" } }
        }
        (keys(config, ctx.now.unix_timestamp()))
    };
    admin_page(ctx, status, Section::Signing, "Signing keys", body)
}

fn keys(config: &SigningConfig, now: i64) -> Markup {
    let stamp = |s: i64| gatehouse::clock::rfc3339(gatehouse::clock::from_unix(s));
    let cutoff = now - RETIRED_KEY_GRACE.whole_seconds();
    html! {
        div.card {
            h2 { "Keys" }
            @if config.keys.is_empty() {
                p { "There are no Gatehouse keys: with HS512 each app registration's own JWT Signing Key signs its ID tokens." }
            } @else {
                div.table-scroll { table.stack {
                    thead { tr { th { "Key ID (kid)" } th { "Algorithm" } th { "Created (UTC)" } th { "Retired (UTC)" } th { "Active" } } }
                    tbody {
                        @for k in &config.keys {
                            @let active = k.retired_at.is_none() && k.alg == config.algorithm;
                            tr {
                                td.mono data-label="Key ID (kid)" { (k.kid) }
                                td data-label="Algorithm" { (k.alg.name()) }
                                td.mono data-label="Created (UTC)" { (stamp(k.created_at)) }
                                td.mono data-label="Retired (UTC)" {
                                    @if let Some(at) = k.retired_at {
                                        (stamp(at))
                                        @if at > cutoff { br; span.hint { "still published until " (stamp(at + RETIRED_KEY_GRACE.whole_seconds())) } }
                                    }
                                }
                                td data-label="Active" { @if active { strong { "Active" } } @else { "No" } }
                            }
                        }
                    }
                } }
            }
            p.hint { "Rotating creates a new key that signs from then on. The previous key stays published at " span.mono { "/jwks" } " until the tokens it signed expire (" (grace_hours()) " hours), so apps can still verify them." }
            @if config.algorithm.is_asymmetric() {
                div.actions { a.button.secondary href="/admin/signing/rotate" { "Rotate" } }
            } @else {
                p.hint { "Rotation is for ES256, EdDSA, RS256 and RS512. With HS512, regenerate a registration's JWT Signing Key on its page instead." }
            }
        }
    }
}

fn confirm_rotate(ctx: &Ctx, status: StatusCode, error: Option<&str>) -> Response {
    let message = html! {
        p { "Create a new signing key? It signs every ID token from now on." }
        p { "The previous key stays published at " span.mono { "/jwks" } " for " (grace_hours()) " hours, until the tokens it signed expire; then it is removed." }
        div.warning role="alert" { strong { "Warning! " } "Apps that cache Gatehouse's keys must fetch /jwks again to verify tokens signed with the new key." }
    };
    let confirm = Confirm {
        section: Section::Signing,
        title: "Rotate the signing key",
        message,
        action: "/admin/signing/rotate",
        button: "Rotate",
        cancel: "/admin/signing",
        error,
    };
    confirm_page(ctx, status, confirm)
}
