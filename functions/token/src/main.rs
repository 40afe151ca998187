//! The token Lambda.

use gatehouse::oidc::{rsa_key, signer::SignerCache};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    // It signs nearly every RS256 token: with AWS-LC's faster RSA (see rsa_key).
    gatehouse::lambda::run_with(gatehouse_token::router, |state| state.signer = SignerCache::new(rsa_key::aws_lc)).await
}
