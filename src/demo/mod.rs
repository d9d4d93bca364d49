//! `serve --demo`: Question 17-2/2, its organizations, a user for each role, the
//! e-Government and e-Environment toolkits with a Module 1 draft each (two
//! revisions of the e-Government one). Loading twice changes nothing: every
//! item is looked up before it is created.

mod review;

use crate::db::accounts as store;
use crate::db::modules as modules_store;
use crate::domain::accounts::{OrganizationKind, Region, Role};
use crate::error::{AppError, AppResult};
use crate::service::modules::{self as modules_service, RevisionInput};
use crate::service::session;
use crate::service::{accounts as service, Actor};
use crate::state::AppState;

/// The password of every demo account (printed at start; for trying the service only).
pub const DEMO_PASSWORD: &str = "kitreview-demo-2026";

/// A demo account to print.
pub struct SignIn {
    pub email: &'static str,
    pub role: &'static str,
    pub organization: &'static str,
}

struct DemoOrg {
    name: &'static str,
    short: &'static str,
    kind: OrganizationKind,
    country: Option<&'static str>,
    region: Option<Region>,
}

const fn state(
    name: &'static str,
    short: &'static str,
    country: &'static str,
    region: Region,
) -> DemoOrg {
    DemoOrg {
        name,
        short,
        kind: OrganizationKind::MemberState,
        country: Some(country),
        region: Some(region),
    }
}

const fn intl(name: &'static str, short: &'static str) -> DemoOrg {
    DemoOrg {
        name,
        short,
        kind: OrganizationKind::InternationalOrganization,
        country: None,
        region: None,
    }
}

const ORGS: &[DemoOrg] = &[
    state("Republic of Kenya", "Kenya", "KE", Region::Africa),
    state("Republic of Senegal", "Senegal", "SN", Region::Africa),
    state(
        "Federative Republic of Brazil",
        "Brazil",
        "BR",
        Region::Americas,
    ),
    state("Arab Republic of Egypt", "Egypt", "EG", Region::ArabStates),
    state("Republic of India", "India", "IN", Region::AsiaPacific),
    state("Republic of Kazakhstan", "Kazakhstan", "KZ", Region::Cis),
    state("French Republic", "France", "FR", Region::Europe),
    intl(
        "United Nations Department of Economic and Social Affairs",
        "UN DESA",
    ),
    intl(
        "Organisation for Economic Co-operation and Development",
        "OECD",
    ),
    intl("United Nations Environment Programme", "UNEP"),
    intl("World Meteorological Organization", "WMO"),
];

struct DemoUser {
    email: &'static str,
    name: &'static str,
    org: &'static str,
    role: Role,
}

const USERS: &[DemoUser] = &[
    DemoUser {
        email: "secretariat@itu.example",
        name: "Ines Secretariat (BDT)",
        org: "ITU",
        role: Role::Secretariat,
    },
    DemoUser {
        email: "rapporteur@itu.example",
        name: "Rafael Rapporteur",
        org: "Brazil",
        role: Role::Rapporteur,
    },
    DemoUser {
        email: "delegate.kenya@itu.example",
        name: "Wanjiru Kamau",
        org: "Kenya",
        role: Role::Member,
    },
    DemoUser {
        email: "delegate.france@itu.example",
        name: "Élodie Marchand",
        org: "France",
        role: Role::Member,
    },
    DemoUser {
        email: "delegate.egypt@itu.example",
        name: "Omar Farouk",
        org: "Egypt",
        role: Role::Member,
    },
    DemoUser {
        email: "expert.unep@itu.example",
        name: "Grace Otieno",
        org: "UNEP",
        role: Role::Member,
    },
];

/// Load the demo only into an empty database or one that holds the demo
/// alone: it adds a SECRETARIAT account whose password is in the README.
/// `Err` says what is there and how to go on.
pub async fn check_target(state: &AppState) -> Result<(), String> {
    let emails: Vec<String> = USERS.iter().map(|u| u.email.to_lowercase()).collect();
    let emails: Vec<&str> = emails.iter().map(String::as_str).collect();
    // The secretariat's organization comes with every database (migration 0001).
    let orgs: Vec<&str> = ORGS
        .iter()
        .map(|o| o.short)
        .chain([crate::service::accounts::SECRETARIAT_ORG])
        .collect();
    let counted = async {
        let mut pooled = state.db.read().await?;
        store::others_than(&mut pooled.conn(), &emails, &orgs).await
    };
    match counted.await {
        Ok((0, 0)) => Ok(()),
        Ok((users, orgs)) => Err(format!(
            "--demo refused: this database already holds {users} account(s) and {orgs} organization(s) \
             that are not the demo's, and the demo would add a SECRETARIAT account whose password is public; \
             start without --demo, or add --demo-force to load it anyway"
        )),
        Err(e) => Err(format!("--demo: cannot read the database: {e}")),
    }
}

/// Load the demo data; returns the sign-ins to print.
pub async fn load(state: &AppState) -> AppResult<Vec<SignIn>> {
    let op = Actor::Operator;
    for o in ORGS {
        let exists = {
            let mut pooled = state.db.read().await?;
            store::organization_by_short_name(&mut pooled.conn(), o.short)
                .await?
                .is_some()
        };
        if !exists {
            service::create_organization(
                state,
                op,
                service::OrganizationInput {
                    name: o.name.into(),
                    short_name: o.short.into(),
                    kind: o.kind,
                    country_code: o.country.map(Into::into),
                    region: o.region,
                },
            )
            .await?;
        }
    }
    let question = {
        let mut pooled = state.db.read().await?;
        store::question_by_code(&mut pooled.conn(), "17-2/2").await?
    };
    let question = match question {
        Some(q) => q,
        None => {
            service::create_question(
                state,
                op,
                "17-2/2",
                "E-services and ICT applications: e-government and e-environment",
                Some(2),
            )
            .await?
        }
    };
    let mut sign_ins = Vec::new();
    for u in USERS {
        let (existing, org) = {
            let mut pooled = state.db.read().await?;
            let mut c = pooled.conn();
            (
                store::user_by_email_key(&mut c, u.email).await?,
                store::organization_by_short_name(&mut c, u.org).await?,
            )
        };
        let org = org.ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("demo organization {} missing", u.org))
        })?;
        let user = match existing {
            Some(user) => user,
            None => {
                service::create_user(
                    state,
                    op,
                    service::UserInput {
                        email: u.email.into(),
                        display_name: u.name.into(),
                        organization_id: Some(org.id),
                        roles: vec![u.role],
                        password: Some(DEMO_PASSWORD.into()),
                        external_subject: None,
                    },
                )
                .await?
            }
        };
        if u.role == Role::Rapporteur {
            service::assign_rapporteur(state, op, question.id, user.id).await?;
        }
        sign_ins.push(SignIn {
            email: u.email,
            role: u.role.as_str(),
            organization: u.org,
        });
    }
    load_toolkits(state, question.id).await?;
    review::load_review(state).await?;
    Ok(sign_ins)
}

struct DemoRevision {
    markdown: &'static str,
    summary: &'static str,
}

struct DemoKit {
    title: &'static str,
    description: &'static str,
    module_title: &'static str,
    revisions: &'static [DemoRevision],
}

const KITS: &[DemoKit] = &[
    DemoKit {
        title: "ITU e-Government Toolkit",
        description: "Modules on the priority areas of action for decision-makers in the four dimensions of \
                      the e-government environment: infrastructure, policy, governance and reach.",
        module_title: "e-Government readiness assessment framework",
        revisions: &[
            DemoRevision {
                markdown: include_str!("content/egov-module1-rev1.md"),
                summary: "First draft, circulated to the members of the Question 17-2/2 group for comments.",
            },
            DemoRevision {
                markdown: include_str!("content/egov-module1-rev2.md"),
                summary: include_str!("content/egov-module1-rev2-changes.txt"),
            },
        ],
    },
    DemoKit {
        title: "ITU e-Environment Toolkit",
        description: "A method and a set of indicators for member states to assess their capacity to use ICTs \
                      for the environment, with the e-Environment Readiness Index (EERI).",
        module_title: "Assessing e-environment readiness and the e-Environment Readiness Index (EERI)",
        revisions: &[DemoRevision {
            markdown: review::EENV_REV1,
            summary: "First draft, including the e-Environment Readiness Index (EERI).",
        }],
    },
];

/// The two toolkits, authored by the demo rapporteur.
async fn load_toolkits(state: &AppState, question_id: i64) -> AppResult<()> {
    let rapporteur = {
        let mut pooled = state.db.read().await?;
        store::user_by_email_key(&mut pooled.conn(), "rapporteur@itu.example")
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("demo rapporteur missing")))?
    };
    let author = session::auth_user(state, rapporteur.id).await?;
    let actor = Actor::User(&author);
    for k in KITS {
        let existing = {
            let mut pooled = state.db.read().await?;
            modules_store::kits_of_questions(&mut pooled.conn(), &[question_id])
                .await?
                .into_iter()
                .find(|kit| kit.title == k.title)
        };
        let kit = match existing {
            Some(kit) => kit,
            None => {
                modules_service::create_kit(state, actor, question_id, k.title, k.description)
                    .await?
            }
        };
        let module = {
            let mut pooled = state.db.read().await?;
            modules_store::modules_of_kits(&mut pooled.conn(), &[kit.id])
                .await?
                .into_iter()
                .find(|m| m.number == 1)
        };
        let module = match module {
            Some(m) => m,
            None => modules_service::create_module(state, actor, kit.id, 1, k.module_title).await?,
        };
        let mut base = None;
        for (i, r) in k.revisions.iter().enumerate() {
            let number = i as i64 + 1;
            let existing = {
                let mut pooled = state.db.read().await?;
                modules_store::revision_by_number(&mut pooled.conn(), module.id, number).await?
            };
            let rev = match existing {
                Some(rev) => rev,
                None => {
                    modules_service::create_revision(
                        state,
                        actor,
                        RevisionInput {
                            module_id: module.id,
                            base_revision_id: base,
                            markdown: r.markdown.to_owned(),
                            summary: r.summary,
                            addressed_comment_ids: &[],
                            idempotency_key: None,
                        },
                    )
                    .await?
                }
            };
            base = Some(rev.id);
        }
    }
    Ok(())
}

/// Print the demo sign-ins to standard error.
pub fn print_sign_ins(sign_ins: &[SignIn]) {
    eprintln!("\nDemo data loaded. Sign in (GraphQL `login` mutation) with password `{DEMO_PASSWORD}` as:");
    for s in sign_ins {
        eprintln!("  {:<32} {:<12} {}", s.email, s.role, s.organization);
    }
    eprintln!();
}
