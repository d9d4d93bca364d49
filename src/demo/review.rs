//! The demo's review: comments of several delegations on the e-Government
//! draft (replies, a draft, a sealed cycle), and the e-Environment cycle
//! consolidated with dispositions and carried into revision 2.

use crate::db::accounts as store;
use crate::db::cycles as cycles_store;
use crate::db::modules as modules_store;
use crate::domain::comments::{AnchorKind, CommentType, QuoteSelector};
use crate::domain::cycle::Visibility;
use crate::error::{AppError, AppResult};
use crate::service::comments::{self as comments_service, AnchorInput, TextInput};
use crate::service::cycles as cycles_service;
use crate::service::modules::{self as modules_service, RevisionInput};
use crate::service::{session, Actor};
use crate::state::AppState;

async fn demo_user(state: &AppState, email: &str) -> AppResult<crate::auth::AuthUser> {
    let row = {
        let mut pooled = state.db.read().await?;
        store::user_by_email_key(&mut pooled.conn(), email)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("demo user {email} missing")))?
    };
    session::auth_user(state, row.id).await
}

fn text(t: CommentType, body: &str, proposed: Option<&str>, language: &str) -> TextInput {
    TextInput {
        comment_type: t,
        body: body.into(),
        proposed_change: proposed.map(Into::into),
        language: Some(language.into()),
    }
}

fn document() -> AnchorInput {
    AnchorInput {
        kind: AnchorKind::Document,
        section_anchor_id: None,
        block_anchor_id: None,
        quote: None,
    }
}

/// The module's latest revision, its first block quoting `phrase` once, and the section of `clause`.
async fn anchors(
    state: &AppState,
    module_id: i64,
    phrase: &str,
    clause: &str,
) -> AppResult<(i64, AnchorInput, AnchorInput)> {
    let mut pooled = state.db.read().await?;
    let mut c = pooled.conn();
    let module = modules_store::module_by_id(&mut c, module_id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("demo module missing")))?;
    let rev = modules_store::revision_by_number(&mut c, module_id, module.revision_count)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("demo revision missing")))?;
    let blocks = modules_store::blocks_of(&mut c, &[rev.id]).await?;
    let sections = modules_store::sections_of(&mut c, &[rev.id]).await?;
    let quote = match blocks.iter().find(|b| b.text.matches(phrase).count() == 1) {
        Some(b) => AnchorInput {
            kind: AnchorKind::Quote,
            section_anchor_id: None,
            block_anchor_id: Some(b.anchor_id.clone()),
            quote: Some(QuoteSelector {
                exact: phrase.into(),
                ..Default::default()
            }),
        },
        None => document(),
    };
    let section = match sections.iter().find(|s| s.clause == clause) {
        Some(s) => AnchorInput {
            kind: AnchorKind::Section,
            section_anchor_id: Some(s.anchor_id.clone()),
            block_anchor_id: None,
            quote: None,
        },
        None => document(),
    };
    Ok((rev.id, quote, section))
}

/// An open cycle on the e-Government module (comments, replies, a draft) and a
/// closed sealed one on the e-Environment module.
pub(super) async fn load_review(state: &AppState) -> AppResult<()> {
    let now = state.clock.now();
    let rapporteur = demo_user(state, "rapporteur@itu.example").await?;
    let kenya = demo_user(state, "delegate.kenya@itu.example").await?;
    let france = demo_user(state, "delegate.france@itu.example").await?;
    let egypt = demo_user(state, "delegate.egypt@itu.example").await?;
    let unep = demo_user(state, "expert.unep@itu.example").await?;
    // The Module 1 of each kit, in the order the kits were made (e-Government first).
    let modules: Vec<_> = {
        let mut pooled = state.db.read().await?;
        let kits =
            modules_store::kits_of_questions(&mut pooled.conn(), &rapporteur.rapporteur_of).await?;
        let mut out = Vec::new();
        for k in kits {
            let ms = modules_store::modules_of_kits(&mut pooled.conn(), &[k.id]).await?;
            out.extend(ms.into_iter().find(|m| m.number == 1));
        }
        out
    };
    let (Some(egov), Some(eenv)) = (modules.first(), modules.get(1)) else {
        return Ok(());
    };
    let has_cycles = |id: i64| async move {
        let mut pooled = state.db.read().await?;
        AppResult::Ok(
            !cycles_store::of_modules(&mut pooled.conn(), &[id])
                .await?
                .is_empty(),
        )
    };

    if !has_cycles(egov.id).await? {
        let (rev, quote, section) = anchors(
            state,
            egov.id,
            "infrastructure, policy, governance and reach",
            "2.3",
        )
        .await?;
        let cycle = cycles_service::open(
            state,
            &rapporteur,
            rev,
            "Comments on Module 1, revision 2",
            now - chrono::Duration::days(3),
            now + chrono::Duration::days(14),
            Visibility::Open,
        )
        .await?;
        let c1 = comments_service::submit_new(
            state,
            &kenya,
            cycle.id,
            &quote,
            &text(
                CommentType::Technical,
                "The four dimensions should say how mobile-first service delivery is assessed.",
                Some("infrastructure (including mobile access), policy, governance and reach"),
                "en",
            ),
            None,
        )
        .await?;
        comments_service::submit_new(
            state,
            &egypt,
            cycle.id,
            &section,
            &text(
                CommentType::General,
                "Clause 2.3 could name the lead agency's coordination role more precisely.",
                None,
                "en",
            ),
            None,
        )
        .await?;
        let c3 = comments_service::submit_new(
            state,
            &france,
            cycle.id,
            &document(),
            &text(
                CommentType::Editorial,
                "Harmoniser « cybergouvernement » et « gouvernement électronique » dans le résumé.",
                None,
                "fr",
            ),
            None,
        )
        .await?;
        comments_service::add_reply(
            state,
            &rapporteur,
            c1.id,
            "Thank you: revision 3 will add mobile access to the infrastructure indicators.",
            None,
        )
        .await?;
        comments_service::add_reply(
            state,
            &unep,
            c1.id,
            "UNEP supports this; the e-Environment module uses the same wording.",
            None,
        )
        .await?;
        comments_service::add_reply(
            state,
            &rapporteur,
            c3.id,
            "Noted; the terminology will follow the ITU-D glossary.",
            None,
        )
        .await?;
        comments_service::create_draft(
            state,
            &kenya,
            cycle.id,
            &document(),
            &text(
                CommentType::General,
                "Draft: check the weights in Table 1 with the national statistics office.",
                None,
                "en",
            ),
            None,
        )
        .await?;
    }

    if !has_cycles(eenv.id).await? {
        let (rev, quote, section) = anchors(state, eenv.id, "EERI", "2.2").await?;
        let cycle = cycles_service::open(
            state,
            &rapporteur,
            rev,
            "Comments on the e-Environment Module 1 (sealed)",
            now - chrono::Duration::days(30),
            now + chrono::Duration::days(1),
            Visibility::Sealed,
        )
        .await?;
        let unep_capacity = comments_service::submit_new(
            state,
            &unep,
            cycle.id,
            &section,
            &text(
                CommentType::Technical,
                "National capacity should include environmental data infrastructure.",
                None,
                "en",
            ),
            None,
        )
        .await?;
        let kenya_eeri = comments_service::submit_new(
            state,
            &kenya,
            cycle.id,
            &quote,
            &text(
                CommentType::Technical,
                "Explain how the EERI is normalised across countries of different sizes.",
                None,
                "en",
            ),
            None,
        )
        .await?;
        let france_terms = comments_service::submit_new(
            state,
            &france,
            cycle.id,
            &document(),
            &text(
                CommentType::Editorial,
                "Remplacer « e-environment » par « cyberenvironnement » dans la version française.",
                None,
                "fr",
            ),
            None,
        )
        .await?;
        let block = |phrase: &'static str| async move {
            let mut pooled = state.db.read().await?;
            let blocks = modules_store::blocks_of(&mut pooled.conn(), &[rev]).await?;
            AppResult::Ok(match blocks.iter().find(|b| b.text.contains(phrase)) {
                Some(b) => AnchorInput {
                    kind: AnchorKind::Block,
                    section_anchor_id: None,
                    block_anchor_id: Some(b.anchor_id.clone()),
                    quote: None,
                },
                None => document(),
            })
        };
        let moved = comments_service::submit_new(
            state,
            &egypt,
            cycle.id,
            &block(EENV_MOVED).await?,
            &text(
                CommentType::General,
                "This paragraph is about national priorities: it belongs with national capacity (2.2).",
                None,
                "en",
            ),
            None,
        )
        .await?;
        let scored = comments_service::submit_new(
            state,
            &unep,
            cycle.id,
            &block(EENV_SCORED).await?,
            &text(
                CommentType::Technical,
                "Say who scores the indicators.",
                Some("Each indicator is scored on a scale from 0 to 4 by the national assessment team."),
                "en",
            ),
            None,
        )
        .await?;
        let bands = comments_service::submit_new(
            state,
            &kenya,
            cycle.id,
            &block(EENV_BANDS).await?,
            &text(
                CommentType::Technical,
                "Remove the illustrative bands: they will be read as a ranking of countries.",
                None,
                "en",
            ),
            None,
        )
        .await?;
        let bands_again = comments_service::submit_new(
            state,
            &egypt,
            cycle.id,
            &block(EENV_BANDS).await?,
            &text(
                CommentType::General,
                "The bands invite comparisons between countries; please delete them.",
                None,
                "en",
            ),
            None,
        )
        .await?;
        cycles_service::close_now(state, &rapporteur, cycle.id).await?;
        consolidate_eenv(
            state,
            &rapporteur,
            cycle.id,
            eenv.id,
            Eenv {
                unep_capacity: unep_capacity.id,
                kenya_eeri: kenya_eeri.id,
                france_terms: france_terms.id,
                moved: moved.id,
                scored: scored.id,
                bands: bands.id,
                bands_again: bands_again.id,
            },
        )
        .await?;
    }
    Ok(())
}

pub(super) const EENV_REV1: &str = include_str!("content/eenv-module1-rev1.md");

/// Paragraphs of the e-Environment revision 1 that revision 2 moves, rewrites and deletes.
const EENV_MOVED: &str = "Not every component is equally relevant to every country.";
const EENV_SCORED: &str = "Each indicator is scored on a scale from 0 to 4.";
const EENV_BANDS: &str = "For ease of communication, the results may be presented in broad bands";

/// The comments of the e-Environment cycle.
struct Eenv {
    unep_capacity: i64,
    kenya_eeri: i64,
    france_terms: i64,
    moved: i64,
    scored: i64,
    bands: i64,
    bands_again: i64,
}

/// Dispositions for every comment of the closed e-Environment cycle, the cycle
/// consolidated, and revision 2 published: its comments carried forward
/// EXACT (unchanged text), MOVED (a paragraph moved to 2.2), FUZZY (a
/// paragraph rewritten) and ORPHANED (the bands paragraph deleted).
async fn consolidate_eenv(
    state: &AppState,
    rapporteur: &crate::auth::AuthUser,
    cycle_id: i64,
    module_id: i64,
    ids: Eenv,
) -> AppResult<()> {
    use crate::domain::disposition::DispositionKind as K;
    use crate::service::consolidation::{self as consolidation, DispositionInput};
    let decide = |id: i64, kind: K, rationale: Option<&str>, dup: Option<i64>| DispositionInput {
        comment_id: id,
        kind,
        rationale: rationale.map(Into::into),
        duplicate_of_id: dup,
        addressed_in_revision_id: None,
        expected_version: None,
    };
    let inputs = [
        decide(
            ids.unep_capacity,
            K::Rejected,
            Some("Environmental data infrastructure is already part of the data group in 2.2."),
            None,
        ),
        decide(ids.kenya_eeri, K::Accepted, None, None),
        decide(
            ids.france_terms,
            K::Noted,
            Some("The French version is prepared by the ITU translation service."),
            None,
        ),
        decide(ids.moved, K::Accepted, None, None),
        decide(
            ids.scored,
            K::AcceptedInPrinciple,
            Some("Clause 3.1 now says who scores the indicators, in other words."),
            None,
        ),
        decide(ids.bands, K::Accepted, None, None),
        decide(
            ids.bands_again,
            K::Duplicate,
            Some("Same request as Kenya's."),
            Some(ids.bands),
        ),
    ];
    consolidation::set_dispositions(state, rapporteur, &inputs, true).await?;
    consolidation::mark_consolidated(state, rapporteur, cycle_id).await?;
    let rev1 = {
        let mut pooled = state.db.read().await?;
        modules_store::revision_by_number(&mut pooled.conn(), module_id, 1).await?
    };
    let Some(rev1) = rev1 else {
        return Ok(());
    };
    let source = EENV_REV1;
    let moved_paragraph = source
        .lines()
        .find(|l| l.starts_with(EENV_MOVED))
        .unwrap_or_default();
    let rev2 = source
        .replace(&format!("{moved_paragraph}\n\n"), "")
        .replace(
            "### 2.2 National capacity\n\n",
            &format!("### 2.2 National capacity\n\n{moved_paragraph}\n\n"),
        )
        .replace(
            EENV_SCORED,
            "Each indicator is scored on a scale from 0 to 4 by the national assessment team.",
        )
        .lines()
        .filter(|l| !l.starts_with(EENV_BANDS))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("Draft revision 1", "Draft revision 2");
    modules_service::create_revision(state, Actor::User(rapporteur), RevisionInput { module_id, base_revision_id: Some(rev1.id), markdown: rev2, summary: "Revision 2: dispositions of the first review applied (2.1 paragraph moved to 2.2, scoring in 3.1, bands removed).", addressed_comment_ids: &[ids.moved, ids.scored, ids.bands], idempotency_key: None })
    .await?;
    Ok(())
}
