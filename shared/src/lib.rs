//! Gatehouse's common crate: the domain, storage, configuration and the web layer
//! every function shares.

pub mod app;
pub mod aws_sdk;
pub mod clock;
pub mod config;
pub mod contact;
pub mod contact_search;
pub mod event_log;
pub mod grants;
pub mod lambda;
pub mod local_signin;
pub mod mail;
pub mod mfa;
pub mod no_access;
pub mod oidc;
pub mod outbound_http;
pub mod outbox;
pub mod paging;
pub mod params;
pub mod password;
pub mod query;
pub mod registration;
pub mod routes;
pub mod scope;
pub mod seal;
pub mod secret;
pub mod services;
pub mod session;
pub mod store;
pub mod ticket;
pub mod totp;
pub mod upstream;
pub mod validation;
pub mod web;
