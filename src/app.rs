//! Building the application from configuration and serving it on a bound listener.

use std::future::Future;
use std::str::FromStr as _;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::auth::jwt::TokenService;
use crate::auth::password::PasswordHasher;
use crate::auth::secret;
use crate::clock::{SharedClock, SystemClock};
use crate::config::{AuthArgs, DbArgs, LimitArgs, MetricsMode, ServeArgs};
use crate::db::{Backend, Db};
use crate::state::{AppState, Inner};

/// Open (and migrate) the database. A failure is one sentence that says
/// where, why (the driver's own words for a refused connection), and which
/// setting to change.
pub async fn open_db(db: &DbArgs) -> anyhow::Result<Db> {
    let url = db.database_url.trim();
    let backend = supported(url)?;
    let shown = shown_url(url);
    let pool = match Db::connect(&db.options()).await {
        Ok(p) => p,
        Err(e) => {
            // A pool reports a refused connection as a time-out: one direct
            // attempt gives the cause.
            let direct = match backend {
                Backend::Postgres => match sqlx::postgres::PgConnectOptions::from_str(url) {
                    Ok(pg) => sqlx::ConnectOptions::connect(&pg).await.err(),
                    Err(bad) => Some(bad),
                },
                Backend::Sqlite => None,
            };
            let cause = direct.map_or_else(|| e.to_string(), |d| d.to_string());
            anyhow::bail!(
                "cannot open the database at {shown}: {cause}; check that it is running and reachable, and --database-url (KITREVIEW_DATABASE_URL)"
            )
        }
    };
    if let Err(e) = pool.migrate().await {
        let why = match &e {
            crate::error::AppError::Internal(inner) => match inner.downcast_ref::<sqlx::migrate::MigrateError>() {
                Some(sqlx::migrate::MigrateError::VersionMissing(n)) => format!(
                    "it has migration {n}, which this kitreview does not know: a newer version used it. Run that version (or a newer one), or restore a backup taken before it"
                ),
                Some(m) => m.to_string(),
                None => inner.to_string(),
            },
            other => other.to_string(),
        };
        anyhow::bail!("cannot prepare the database at {shown}: {why}");
    }
    Ok(pool)
}

/// The backend the database URL names, or the sentence that says it is not supported.
pub(crate) fn supported(url: &str) -> anyhow::Result<Backend> {
    Backend::of_url(url).map_err(|e| {
        let why = match e {
            crate::error::AppError::Validation { message, .. } => message,
            other => other.to_string(),
        };
        anyhow::anyhow!(
            "--database-url (KITREVIEW_DATABASE_URL) `{}` {why}",
            shown_url(url)
        )
    })
}

/// The database URL without its password, for messages.
pub(crate) fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Everything a server or a command needs, from configuration.
pub async fn build_state(
    db_args: &DbArgs,
    auth: &AuthArgs,
    limits: LimitArgs,
    trust_forwarded_for: bool,
    clock: SharedClock,
) -> anyhow::Result<AppState> {
    // The database URL is checked first: a wrong one is the first thing to fix.
    supported(&db_args.database_url)?;
    let secret = secret::load_or_create(auth, db_args)?;
    let tokens = TokenService::new(auth, &secret)?;
    let passwords = PasswordHasher::new(auth.argon2_memory_kib, auth.argon2_iterations)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let cors_origins = crate::http::cors::origins(&auth.cors_origins)?;
    let db = open_db(db_args).await?;
    Ok(AppState::new(Inner {
        cors_origins,
        db,
        clock,
        tokens,
        passwords,
        token_ttl: auth.token_ttl,
        session_ttl: auth.session_ttl,
        secure_cookies: auth.secure_cookies,
        trust_forwarded_for,
        live: crate::live::Hub::new(),
        diffs: crate::service::modules::DiffCache::new(limits.diff_cache_bytes),
        html: crate::service::rendering::HtmlCache::new(limits.html_cache_bytes),
        auth_cache: crate::service::session::AuthCache::new(4_096),
        limits,
    }))
}

/// Serve on `listener` until `shutdown` resolves, then finish in-flight
/// requests; `/metrics` where `metrics` says.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    metrics: MetricsMode,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let schema = crate::graphql::build(&state.limits);
    let live = state.live.start(&state.db, state.clock.clone()).await?;
    let sockets = crate::http::ws::Sockets::new(&state.limits);
    if metrics != MetricsMode::Off {
        crate::http::metrics::install();
    }
    let router = crate::http::router(
        state.clone(),
        schema.clone(),
        sockets.clone(),
        metrics == MetricsMode::On,
    );
    let stop = tokio_util::sync::CancellationToken::new();
    if let MetricsMode::Listen(addr) = metrics {
        let scrape = TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for --metrics: {e}"))?;
        let app = crate::http::metrics_router(state.clone(), schema, sockets.clone());
        let done = stop.clone();
        tokio::spawn(async move {
            let served = axum::serve(scrape, app)
                .with_graceful_shutdown(async move { done.cancelled().await })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    let signal = stop.clone();
    let closing = sockets.clone();
    tokio::spawn(async move {
        shutdown.await;
        // Live connections are told first (1001), then requests in flight finish.
        closing.shut_down(std::time::Duration::from_secs(5)).await;
        signal.cancel();
    });
    crate::http::server::serve(listener, router, (&state.limits).into(), stop).await;
    sockets.shut_down(std::time::Duration::from_secs(5)).await;
    for task in live {
        task.abort();
    }
    state.db.close().await;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// `kitreview serve`.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // One server per SQLite file (held until the process ends).
    let _lock = match args.db.sqlite_path() {
        Some(path) => Some(crate::db::lock::hold(&path)?),
        None => None,
    };
    let clock: SharedClock = Arc::new(SystemClock);
    let state = build_state(
        &args.db,
        &args.auth,
        args.limits.clone(),
        args.trust_forwarded_for,
        clock,
    )
    .await?;
    if args.demo {
        if !args.demo_force {
            crate::demo::check_target(&state)
                .await
                .map_err(|why| anyhow::anyhow!(why))?;
        }
        let sign_ins = crate::demo::load(&state).await?;
        crate::demo::print_sign_ins(&sign_ins);
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(
        %addr,
        backend = ?state.db.backend(),
        ready_ms = started.elapsed().as_millis() as u64,
        "kitreview is ready: GraphQL at http://{addr}/graphql"
    );
    serve(listener, state, args.metrics, shutdown_signal()).await
}
