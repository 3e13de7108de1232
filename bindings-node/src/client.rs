//! `NativeClient`: one connection (shared, multiplexed), the door to the patterns, and the
//! completion queue its operations report through.
//!
//! The connection is the hosted transport of the core: `link.js` owns a Node socket and
//! moves bytes through the `link*` methods and `takeOutput`; the core does everything
//! else (RESP, handshake, retries, deadlines, the offline queue). Every operation runs on
//! the client's executor, on the JS thread.

use std::future::Future;
use std::sync::Arc;

use napi::bindgen_prelude::{Buffer, BufferSlice, Either, Object, Uint32Array, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;

use redkit::transport::hosted::{Address, HostedTransport};

use crate::cache::NativeCache;
use crate::completion::{Completions, Header, HostTarget, Outcome, Start, Wake};
use crate::errors::{js, to_js};
use crate::executor::Executor;
use crate::functions::{arg, Functions, Made};
use crate::host::{host_error, JsHost, NativeReports};
use crate::links::{Dial, NodeDialer};
use crate::options::{read, HealthReport, Js};
use crate::queue::{job_options, NativeQueue};
use crate::ratelimit::NativeRateLimiter;

/// The JS function incident reports go to (`onIncident`): called with a report's JSON.
/// Weak: it keeps no process alive.
pub type Report = ThreadsafeFunction<String, (), String, Status, false, true>;

/// The native client behind `Client` in `redkit.js`.
#[napi]
#[derive(Clone)]
pub struct NativeClient {
    inner: redkit::Client,
    completions: Arc<Completions>,
    /// The native half of the connection `link.js` holds; `None` on the embedded engine.
    link: Option<Arc<HostedTransport>>,
}

/// What `runManyForTests` runs: `calls` calls of the registered function `function`
/// (argument: the call's index, as text), `concurrency` at a time, every `cancel_every`-th
/// (0: none) cancelled `cancel_after_ms` after it starts.
#[napi(object)]
pub struct RunManyPlan {
    /// The function's id (`Dispatcher.register`).
    pub function: u32,
    /// How many calls.
    pub calls: u32,
    /// Calls in flight at most.
    pub concurrency: u32,
    /// Cancel every this-many-th call (0: none).
    pub cancel_every: u32,
    /// How long after its start a call is cancelled.
    pub cancel_after_ms: u32,
}

/// Where `link.js` connects, and how patiently.
#[napi(object)]
pub struct LinkAddress {
    /// Host name or IP (TCP).
    pub host: Option<String>,
    /// Port (TCP).
    pub port: Option<u32>,
    /// Unix socket path.
    pub path: Option<String>,
    /// Speak TLS (`rediss://`).
    pub tls: bool,
    /// Skip certificate verification (`rediss://...#insecure`).
    pub insecure: bool,
    /// Deadline for one connection attempt.
    pub connect_timeout_ms: f64,
    /// Connect on first use rather than in `Client.connect`.
    pub lazy_connect: bool,
    /// How often to time out overdue requests (the core's deadline tick), ms.
    pub deadline_tick_ms: f64,
}

/// Where `link.js` connects for `link`, and how patiently.
pub fn link_address(link: &HostedTransport) -> LinkAddress {
    let opts = link.options();
    let (host, port, path, tls, insecure) = match link.address() {
        Address::Tcp {
            host,
            port,
            tls,
            insecure,
        } => (
            Some(host.clone()),
            Some(u32::from(*port)),
            None,
            *tls,
            *insecure,
        ),
        Address::Unix(path) => (None, None, Some(path.clone()), false, false),
    };
    LinkAddress {
        host,
        port,
        path,
        tls,
        insecure,
        connect_timeout_ms: opts.connect_timeout.as_secs_f64() * 1000.0,
        lazy_connect: opts.lazy_connect,
        deadline_tick_ms: redkit::transport::DEADLINE_TICK.as_secs_f64() * 1000.0,
    }
}

impl NativeClient {
    fn executor(&self) -> &Executor {
        self.completions.executor()
    }

    /// The link, or an error for a client without one (the embedded engine).
    fn link(&self) -> napi::Result<&HostedTransport> {
        self.link
            .as_deref()
            .ok_or_else(|| to_js(redkit::Error::invalid("this client has no connection")))
    }

    /// Run a link call inside the executor: it may settle requests whose futures go on.
    fn on_link<R>(&self, f: impl FnOnce(&HostedTransport) -> R) -> napi::Result<R> {
        let link = self.link()?;
        Ok(self.executor().drive(|| f(link)))
    }
}

#[napi]
impl NativeClient {
    /// A client for `url` (`redis://`, `rediss://`, `redis+unix://`, user, password and db
    /// in the URL; `embedded://` for the in-process engine). Makes no connection: `link.js`
    /// connects to `address()`. `wake` is called (without arguments) when a task was woken
    /// off the JS thread and `poll()` should run.
    #[napi(
        factory,
        catch_unwind,
        ts_args_type = "url: unknown, opts: unknown, wake: () => void"
    )]
    pub fn open(url: Js, opts: Option<Js>, wake: Wake) -> napi::Result<Self> {
        // Read here, not by napi: a number is "url must be a string, got a number".
        let url = url.text("url")?;
        let runtime = crate::runtime()?;
        let opts: redkit::ConnectOptions = read("connect options", opts)?;
        let executor = Executor::new(wake, runtime.clone());
        if redkit::is_embedded_url(&url) {
            // The engine needs no I/O to start: this returns at once.
            let inner = js(runtime.block_on(redkit::Client::connect_with(&url, opts)))?;
            return Ok(NativeClient {
                inner,
                completions: Completions::new(executor, None),
                link: None,
            });
        }
        let prefix = opts.prefix.clone();
        // Connections of their own (blocking commands, the near caches' push channel) are
        // Node sockets too, once `link.js` gives its dialer (`dialWith`).
        let hosted = Arc::new(js(HostedTransport::new(&url, opts))?);
        let inner = js(redkit::Client::from_transport(hosted.clone(), &prefix))?;
        Ok(NativeClient {
            inner,
            completions: Completions::new(executor, Some(Arc::clone(&hosted))),
            link: Some(hosted),
        })
    }

    /// Where to connect; `null` for the embedded engine.
    #[napi(catch_unwind)]
    pub fn address(&self) -> Option<LinkAddress> {
        Some(link_address(self.link.as_deref()?))
    }

    /// How the core opens connections of its own: `dial(link)` opens a Node socket for
    /// `link` (see `links.rs`).
    #[napi(catch_unwind, ts_args_type = "dial: (link: NativeLink) => void")]
    pub fn dial_with(&self, dial: Dial) -> napi::Result<()> {
        let dialer = NodeDialer::new(dial, Arc::clone(&self.completions));
        self.link()?.set_dialer(Arc::new(dialer));
        Ok(())
    }

    /// The socket is open: queue the handshake.
    #[napi(catch_unwind)]
    pub fn link_connected(&self) -> napi::Result<()> {
        self.on_link(HostedTransport::connected)
    }

    /// Whether the handshake of the current connection has been answered.
    #[napi(catch_unwind)]
    pub fn link_ready(&self) -> napi::Result<bool> {
        Ok(self.link()?.is_ready())
    }

    /// The socket closed: requests in flight fail over to their retries.
    #[napi(catch_unwind)]
    pub fn link_disconnected(&self, reason: String) -> napi::Result<()> {
        self.on_link(|link| link.disconnected(&reason))
    }

    /// Time out overdue requests; returns how many are waiting. Throws when the handshake
    /// is overdue: close the socket.
    #[napi(catch_unwind)]
    pub fn link_expire(&self) -> napi::Result<u32> {
        let waiting = js(self.on_link(HostedTransport::expire)?)?;
        Ok(u32::try_from(waiting).unwrap_or(u32::MAX))
    }

    /// Whether `close()` was called: stop reconnecting.
    #[napi(catch_unwind)]
    pub fn link_closed(&self) -> napi::Result<bool> {
        Ok(self.link()?.is_closed())
    }

    /// Milliseconds to wait before reconnect attempt `attempt` (0-based).
    #[napi(catch_unwind)]
    pub fn reconnect_delay(&self, attempt: u32) -> napi::Result<f64> {
        Ok(self.link()?.reconnect_delay(attempt).as_secs_f64() * 1000.0)
    }

    /// Where this client's incident reports go (see `redkit::incidents`): `report` gets
    /// each report's JSON text, on the JS thread, after the decision it reports. Weak: it
    /// keeps no process alive.
    #[napi(catch_unwind, ts_args_type = "report: (json: string) => void")]
    pub fn on_incident(&self, report: Report) {
        self.inner
            .set_reporter(Some(Arc::new(move |i: &redkit::incidents::Incident| {
                report.call(i.to_json(), ThreadsafeFunctionCallMode::NonBlocking);
            })));
    }

    /// Poll the tasks woken off the JS thread (the answer to `wake`).
    #[napi(catch_unwind)]
    pub fn poll(&self) {
        self.executor().drive(|| ());
    }

    /// The key prefix of this client.
    #[napi(getter)]
    pub fn prefix(&self) -> String {
        self.inner.prefix().to_string()
    }

    /// A cache namespace with its options (read by the core).
    #[napi(catch_unwind, ts_args_type = "namespace: string, opts?: unknown")]
    pub fn cache(&self, namespace: Js, opts: Option<Js>) -> napi::Result<NativeCache> {
        let namespace = namespace.text("namespace")?;
        let opts: redkit::CacheOptions = read("cache options", opts)?;
        let cache = js(self.inner.cache(&namespace).options(opts).build())?;
        Ok(NativeCache::new(cache, Arc::clone(&self.completions)))
    }

    /// A named rate limiter with its options (read by the core); decisions report
    /// through the same queue.
    #[napi(catch_unwind, ts_args_type = "name: string, opts?: unknown")]
    pub fn rate_limiter(&self, name: Js, opts: Option<Js>) -> napi::Result<NativeRateLimiter> {
        let name = name.text("name")?;
        let opts: redkit::RateLimiterOptions = read("rate limiter options", opts)?;
        let limiter = js(self.inner.rate_limiter(&name).options(opts).build())?;
        Ok(NativeRateLimiter::new(
            limiter,
            Arc::clone(&self.completions),
        ))
    }

    /// The queue `name`; `defaults` is the JSON text of its default job options (camelCase,
    /// read by the core's schema, see `queue.rs`). No round trip.
    #[napi(catch_unwind)]
    pub fn queue(&self, name: String, defaults: Option<String>) -> napi::Result<NativeQueue> {
        let defaults = js(job_options(defaults.as_deref()))?;
        let opts = redkit::queue::QueueOptions::new().defaults(defaults);
        let queue = js(self.inner.queue_with(&name, opts))?;
        Ok(NativeQueue::new(queue, Arc::clone(&self.completions)))
    }

    /// A worker of `queue` calling the JS function the dispatcher registered as
    /// `processor`; options read by the core (see `worker.rs`). Not started.
    #[napi(
        catch_unwind,
        ts_args_type = "queue: string, processor: number, opts?: unknown"
    )]
    pub fn worker(
        &self,
        queue: Js,
        processor: u32,
        opts: Option<Js>,
    ) -> napi::Result<crate::worker::NativeWorker> {
        crate::worker::worker(&self.inner, &self.completions, queue, processor, opts)
    }

    /// Host call `id` threw `error`, whose name, message and stack JS read; whoever
    /// rethrows it gets that very object.
    #[napi(
        catch_unwind,
        ts_args_type = "id: number, error: unknown, name: string, message: string, stack?: string | null"
    )]
    pub fn host_rejected(
        &self,
        id: u32,
        error: Unknown,
        name: String,
        message: String,
        stack: Option<String>,
    ) {
        let err = host_error(error, name, message, stack);
        self.completions.settle_call(id, Err(err));
    }

    /// Test hook: run `plan` (see [`RunManyPlan`]) through `redkit::host::run_many`, in
    /// the background; its reports come as calls end, from the returned stream.
    #[napi(catch_unwind, js_name = "runManyForTests")]
    pub fn run_many_for_tests(&self, plan: RunManyPlan) -> NativeReports {
        let host = JsHost::new(
            Arc::clone(&self.completions),
            HostTarget::Registered(plan.function),
        );
        let concurrency = plan.concurrency as usize;
        let plan = (0..plan.calls)
            .map(|i| redkit::host::Planned {
                arg: i.to_string().into_bytes(),
                cancel_after: (plan.cancel_every > 0 && i % plan.cancel_every == 0)
                    .then(|| std::time::Duration::from_millis(plan.cancel_after_ms.into())),
            })
            .collect();
        let (tx, events) = redkit::host::events();
        self.executor().spawn(async move {
            redkit::host::run_many(&host, plan, concurrency, &tx).await;
        });
        NativeReports::new(events, Arc::clone(&self.completions))
    }
}

impl NativeClient {
    /// Bytes the socket read; returns what `Completions::take` returns, so a reply costs
    /// one native call. Throws when the stream is broken: close the socket.
    fn link_received(&self, env: &Env, chunk: BufferSlice) -> napi::Result<Made> {
        js(self.on_link(|link| link.received(&chunk))?)?;
        self.completions.take(env)
    }

    /// Run `op`, an operation of the client that resolves to `undefined`.
    fn unit<F, Fut>(&self, env: &Env, start: Start, op: F) -> napi::Result<Made>
    where
        F: FnOnce(redkit::Client) -> Fut,
        Fut: Future<Output = redkit::Result<()>> + Send + 'static,
    {
        let done = op(self.inner.clone());
        self.completions.start(env, start, async move {
            done.await?;
            Ok(Outcome::Unit)
        })
    }

    /// Server version, persistence, eviction policy and warnings, as JSON text (a
    /// `HealthReport`).
    fn check(&self, env: &Env, op: Start) -> napi::Result<Made> {
        let client = self.inner.clone();
        self.completions.start(env, op, async move {
            let report = HealthReport::from(client.check().await?);
            Ok(Outcome::Text(report.to_json()))
        })
    }
}

#[napi]
impl NativeClient {
    /// The calls made for every operation, and the client's own operations (each taking
    /// its `Start` first), as plain functions (see `functions.rs`). `header` is where they
    /// report which operations finished (see `Completions::take`).
    #[napi(
        catch_unwind,
        ts_return_type = "{ takeCompletions(): unknown; linkReceived(chunk: Buffer): unknown; hostResolved(ids: number[], values: Array<string | Buffer>): unknown; checkLayout(op: number): unknown; ping(op: number): unknown; close(op: number): unknown; check(op: number): unknown }"
    )]
    pub fn functions<'env>(
        &self,
        env: &'env Env,
        header: Uint32Array,
    ) -> napi::Result<Object<'env>> {
        self.completions.set_header(Header::new(header)?);
        let c = || self.clone();
        let (c1, c2, c3, c4, c5, c6, c7) = (c(), c(), c(), c(), c(), c(), c());
        Ok(Functions::new(env)?
            .add("takeCompletions", move |x| c1.completions.take(x.env))?
            .add("linkReceived", move |x| c2.link_received(x.env, arg(x, 0)?))?
            // Host calls `ids[i]` returned `values[i]` (see `host.rs`): settled in one
            // pass, then what `takeCompletions` returns.
            .add("hostResolved", move |x| {
                let ids: Vec<u32> = arg(x, 0)?;
                let values: Vec<Either<String, Buffer>> = arg(x, 1)?;
                c7.completions
                    .settle_calls(ids.into_iter().zip(values).map(|(id, value)| {
                        let raw = match value {
                            Either::A(text) => text.into_bytes(),
                            Either::B(buf) => buf.to_vec(),
                        };
                        (id, Ok(raw))
                    }));
                c7.completions.take(x.env)
            })?
            // Record or check the data-layout version (what `connect` does once the
            // connection is up).
            .add("checkLayout", move |x| {
                c3.unit(x.env, arg(x, 0)?, |c| async move { c.check_layout().await })
            })?
            .add("ping", move |x| {
                c4.unit(x.env, arg(x, 0)?, |c| async move { c.ping().await })
            })?
            // Later calls fail with `Closed`.
            .add("close", move |x| {
                c5.unit(x.env, arg(x, 0)?, |c| async move { c.close().await })
            })?
            .add("check", move |x| c6.check(x.env, arg(x, 0)?))?
            .finish())
    }
}
