//! Running a function under the Lambda runtime: configuration, tracing and state built once,
//! then every invocation goes to the function's handler.

use std::future::Future;
use std::sync::Arc;

use lambda_http::{Error, service_fn};

use crate::app::AppState;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::web::{Request, Response};

pub async fn run<F, Fut>(handler: F) -> Result<(), Error>
where
    F: Fn(Arc<AppState>, Request) -> Fut,
    Fut: Future<Output = Response> + Send,
{
    let config = Config::from_env()?;
    crate::app::init_tracing(&config.log_format);
    let state = Arc::new(AppState::new(config, Arc::new(SystemClock)).await?);
    lambda_http::run(service_fn(|req| {
        let response = handler(state.clone(), req);
        async move { Ok::<_, Error>(response.await) }
    }))
    .await
}
