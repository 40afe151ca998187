//! Where every AWS client's configuration starts (the stores' DynamoDB and Secrets Manager,
//! SES for mail): below both, so neither reaches into the other for it.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls;

/// TLS for every HTTPS client (the SDKs', and outbound calls to providers and apps): rustls on ring.
/// The SDK's own default client would link AWS-LC beside it.
pub fn tls_provider() -> tls::Provider {
    tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring)
}

/// The SDKs' HTTPS client.
fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new().tls_provider(tls_provider()).build_https()
}

/// Where every AWS client's configuration starts: credentials and region from the environment
/// (the usual `AWS_*` variables, profiles, SSO, web identity, containers and instance metadata),
/// calls over [`https_client`], sent to `endpoint` when given.
#[cfg(feature = "credential-chain")]
pub fn sdk_loader() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(https_client())
}

/// [`sdk_loader`]'s configuration.
#[cfg(feature = "credential-chain")]
pub async fn sdk_config(endpoint: Option<&str>) -> SdkConfig {
    let mut loader = sdk_loader();
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// The Lambda functions' configuration: Lambda gives a function its role's credentials and its
/// region in environment variables, so they read only those. The full chain of
/// [`aws_config`] (profiles, SSO, STS, instance metadata) is a twentieth of a package.
#[cfg(not(feature = "credential-chain"))]
pub async fn sdk_config(endpoint: Option<&str>) -> SdkConfig {
    let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .into_iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()))
        .map(aws_config::Region::new);
    let credentials = aws_config::environment::EnvironmentVariableCredentialsProvider::new();
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(https_client())
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(credentials));
    builder.set_region(region);
    builder.set_endpoint_url(endpoint.map(str::to_owned));
    builder.build()
}
