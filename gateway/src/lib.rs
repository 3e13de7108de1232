//! redkit-gateway: the Upstash REST protocol in front of any Redis, so edge functions (which
//! cannot open TCP connections to Redis) can reach a self-hosted one over HTTP.
//!
//! Endpoints: `POST /` with a JSON command array, the path form `GET|POST /set/k/v`,
//! `POST /pipeline` and `POST /multi-exec`. See the crate README for the protocol details.

mod backend;
mod config;
mod error;
mod http;
mod policy;
mod reply;
mod request;
mod serve;

pub use config::{
    Config, Scripts, DEFAULT_DENY, DEFAULT_MAX_BODY, DEFAULT_MAX_COMMANDS,
    DEFAULT_MAX_INFLIGHT_BYTES,
};
pub use policy::CONNECTION_STATE;

use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A gateway connected to its Redis, ready to serve.
pub struct Gateway {
    app: Arc<http::App>,
    limits: serve::Limits,
}

impl Gateway {
    /// Connect to Redis. Fails if the URL is invalid or Redis cannot be reached.
    pub async fn connect(config: &Config) -> Result<Gateway, redis::RedisError> {
        let backend = backend::Backend::connect(config).await?;
        let app = http::App {
            backend,
            policy: policy::Policy::new(&config.deny, config.scripts),
            token: config.token.clone(),
            max_body: config.max_body,
            max_commands: config.max_commands,
            inflight: Arc::new(tokio::sync::Semaphore::new(
                config
                    .max_inflight_bytes
                    .min(tokio::sync::Semaphore::MAX_PERMITS),
            )),
            max_inflight_bytes: config.max_inflight_bytes,
            body_timeout: config.body_timeout,
        };
        let limits = serve::Limits {
            header_timeout: config.header_timeout,
            max_connections: config.max_connections,
            shutdown_timeout: config.shutdown_timeout,
        };
        Ok(Gateway {
            app: Arc::new(app),
            limits,
        })
    }

    /// Where the Redis server is (host and port, no credentials), for logs.
    pub fn redis_addr(&self) -> String {
        self.app.backend.redis_addr()
    }

    /// The HTTP routes, to serve or to embed in another axum app.
    pub fn router(&self) -> axum::Router {
        http::router(self.app.clone())
    }

    /// Serve on `listener` until `shutdown` completes, then finish the requests in flight
    /// within the configured shutdown timeout. Connections are bounded in number, and in
    /// how long their headers and bodies may take (see [`Config`]).
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        serve::serve(listener, self.router(), self.limits, shutdown).await
    }
}
