//! Actions that combine stores: above storage and the domain, below the web edge and the
//! functions. Each takes the stores (and the config pieces or caches it needs) and the time
//! explicitly rather than the whole `AppState`, so it can be called and tested on its own.

pub mod backchannel;
pub mod id_token_hint;
pub mod issue;
pub mod log;
pub mod logout;
pub mod mail;
pub mod mfa;
pub mod sealed_tokens;
pub mod secrets;
pub mod settings;
pub mod signing;
pub mod upstream;
