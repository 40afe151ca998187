//! `cargo run`: Gatehouse on one local port with embedded storage.

use std::sync::Arc;

use gatehouse::app::{AppState, FirstAdmin, ensure_first_admin, init_tracing};
use gatehouse::clock::SystemClock;
use gatehouse::config::Config;
use gatehouse::mail::Transport;
use gatehouse::oidc::{rsa_key, signer::SignerCache};
use gatehouse::services::secrets::{SweepMoment, sweep_orphan_client_secrets};

// mimalloc: a request's many small allocations cost less than with glibc's malloc, which
// also merged its free lists on most requests. (A password hash's 19 MiB is its own mapping,
// whatever the allocator.) The Lambda packages keep the system's: they are near 6 MB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    match gatehouse_server::runtime().map_err(Into::into).and_then(|runtime| runtime.block_on(run())) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gatehouse: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    let limits = gatehouse_server::Limits::from_env()?;
    init_tracing(&config.log_format);
    let listener = gatehouse_server::bind(config.listen).await?;
    let mut state = AppState::new(config, Arc::new(SystemClock)).await?;
    // It serves the token endpoint: RS256 with AWS-LC's faster RSA, as the token Lambda does.
    state.signer = SignerCache::new(rsa_key::aws_lc);
    let state = Arc::new(state);
    let first_admin = ensure_first_admin(&state).await?;
    // Before serving, nothing else writes: credentials of any age without a registration go.
    sweep_orphan_client_secrets(&state.stores, state.now(), SweepMoment::StartUp).await?;
    let config = &state.config;
    println!("Gatehouse is running at {}", config.url("/"));
    println!("  sign in:  {}", config.url("/signin"));
    println!("  admin:    {}", config.url("/admin"));
    match first_admin {
        FirstAdmin::CreatedWithGeneratedPassword(password) => {
            println!("  first administrator: {} / {}", config.admin_username, password.expose());
            println!("  (this password is shown only now; change it in the admin)");
        }
        FirstAdmin::CreatedWithConfiguredPassword => {
            println!("  first administrator: {} (password from GATEHOUSE_ADMIN_PASSWORD)", config.admin_username);
        }
        FirstAdmin::Existing => println!("  administrator: {}", config.admin_username),
    }
    match state.mailer.transport() {
        Transport::Console => {
            println!("  mail:     printed here (set GATEHOUSE_SMTP_URL and GATEHOUSE_MAIL_FROM to send it)")
        }
        Transport::Smtp => println!("  mail:     sent through the SMTP relay in GATEHOUSE_SMTP_URL"),
        Transport::Ses => println!("  mail:     sent with Amazon SES"),
        Transport::None | Transport::Outbox => println!("  mail:     not configured: nothing will be sent"),
    }
    gatehouse_server::serve_with(state, listener, limits).await;
    Ok(())
}
