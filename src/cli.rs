//! The commands other than `serve`: migrate, user create and set-password,
//! token, schema, backup, restore, copy.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::secret::secret_path;
use crate::clock::SystemClock;
use crate::config::{
    sqlite_path_of, AuthArgs, Cli, Command, CopyArgs, DbArgs, LimitArgs, TokenArgs, UserCommand,
    UserCreateArgs, UserSetPasswordArgs,
};
use crate::db::{accounts as store, backup, copy, Backend};
use crate::service::{accounts as service, passwords, Actor};
use crate::state::AppState;

/// Run one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => crate::app::run(*args).await,
        Command::Migrate(db) => {
            let pool = crate::app::open_db(&db).await?;
            pool.close().await;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::User {
            command: UserCommand::Create(args),
        } => create_user(args).await,
        Command::User {
            command: UserCommand::SetPassword(args),
        } => set_password(args).await,
        Command::Token(args) => token(args).await,
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Command::Backup(args) => {
            let db = sqlite_file(&args.db, false)?;
            let timeout = args.db.db_busy_timeout;
            let written = backup::backup(&db, &args.to, args.force, secret_path, timeout).await?;
            eprintln!("{written}");
            Ok(())
        }
        Command::Restore(args) => {
            let db = sqlite_file(&args.db, true)?;
            let (force, check, timeout) = (args.force, args.check, args.db.db_busy_timeout);
            let restored =
                backup::restore(&args.from, &db, force, check, secret_path, timeout).await?;
            eprintln!("{restored}");
            Ok(())
        }
        Command::Copy(args) => copy_to_postgres(args).await,
    }
}

/// `copy --from sqlite:PATH --to postgres://...`; a sentence for other URLs.
async fn copy_to_postgres(args: CopyArgs) -> anyhow::Result<()> {
    let (from, to) = (args.from.trim(), args.to.trim());
    let Some(path) = sqlite_path_of(from) else {
        anyhow::bail!(
            "--from `{}` is not an SQLite database file: give sqlite:PATH, the --database-url the SQLite server ran with",
            crate::app::shown_url(from)
        );
    };
    let shown = crate::app::shown_url(to);
    if Backend::of_url(to).ok() != Some(Backend::Postgres) {
        anyhow::bail!(
            "--to `{shown}` is not a PostgreSQL database: give postgres://USER@HOST/DB (to copy an SQLite database to another file, use kitreview backup)"
        );
    }
    let copied = copy::copy(&path, to, &shown, secret_path, Duration::from_secs(5)).await?;
    eprintln!("{copied}");
    Ok(())
}

/// The SQLite file `backup` and `restore` work on; a sentence for any other URL.
fn sqlite_file(db: &DbArgs, restoring: bool) -> anyhow::Result<PathBuf> {
    let url = &db.database_url;
    match crate::app::supported(url)? {
        Backend::Postgres => Err(backup::postgres_refusal(
            restoring,
            &crate::app::shown_url(url.trim()),
        )),
        Backend::Sqlite => db.sqlite_path().ok_or_else(|| {
            anyhow::anyhow!(
                "--database-url (KITREVIEW_DATABASE_URL) `{url}` is an in-memory database, which has no file to back up or restore into; give sqlite:PATH"
            )
        }),
    }
}

fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password (at least 12 characters; it is echoed): ");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// The state a command works with: the database and the secret, no server.
async fn command_state(db: &DbArgs, auth: &AuthArgs) -> anyhow::Result<AppState> {
    crate::app::build_state(db, auth, LimitArgs::default(), false, Arc::new(SystemClock)).await
}

async fn create_user(args: UserCreateArgs) -> anyhow::Result<()> {
    let state = command_state(&args.db, &args.auth).await?;
    let organization_id = match &args.organization {
        Some(short) => {
            let mut pooled = state.db.read().await?;
            let org = store::organization_by_short_name(&mut pooled.conn(), short)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no organization with short name '{short}'"))?;
            Some(org.id)
        }
        None => None,
    };
    let password = read_password()?;
    let user = service::create_user(
        &state,
        Actor::Operator,
        service::UserInput {
            email: args.email,
            display_name: args.name,
            organization_id,
            roles: args.roles,
            password: Some(password),
            external_subject: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    state.db.close().await;
    eprintln!("created user {} ({})", user.email, user.display_name);
    Ok(())
}

async fn set_password(args: UserSetPasswordArgs) -> anyhow::Result<()> {
    let state = command_state(&args.db, &args.auth).await?;
    let password = read_password()?;
    let user = passwords::set_password(&state, &args.email, &password, args.temporary)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    state.db.close().await;
    if args.temporary {
        eprintln!(
            "{} has a temporary password: it signs in only to choose a new one, for 7 days",
            user.email
        );
    } else {
        eprintln!(
            "password of {} set; their earlier sessions have ended",
            user.email
        );
    }
    Ok(())
}

async fn token(args: TokenArgs) -> anyhow::Result<()> {
    let state = command_state(&args.db, &args.auth).await?;
    let mut pooled = state.db.read().await?;
    let user = store::user_by_email_key(&mut pooled.conn(), &args.email.trim().to_lowercase())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user with e-mail address {}", args.email))?;
    drop(pooled);
    if !user.active {
        anyhow::bail!("{} is deactivated", user.email);
    }
    let (token, _) = state
        .tokens
        .issue(user.id, user.password_version, user.token_epoch, args.ttl)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    state.db.close().await;
    println!("{token}");
    Ok(())
}
