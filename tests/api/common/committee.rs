//! The committee most review tests start from.

use serde_json::{json, Value};

use super::{Backend, Options, TestServer, PASSWORD};
use kitreview::domain::accounts::Role;

/// The demo's e-Government Module 1, revision 1.
pub const REV1: &str = include_str!("../../../src/demo/content/egov-module1-rev1.md");

const CREATE_REVISION: &str =
    "mutation($i: CreateRevisionInput!) { createRevision(input: $i) { revision { id number } } }";

/// A committee: the secretariat, a rapporteur of Question 17-2/2 (and one of
/// another question), delegates of Kenya (two) and France, a kit, a module and
/// its revision 1 (the demo's e-Government draft).
pub struct Committee {
    pub s: TestServer,
    pub admin: String,
    pub admin_id: String,
    pub rapporteur: String,
    pub rapporteur_id: String,
    /// A rapporteur of another question.
    pub other_rapporteur: String,
    pub kenya: String,
    pub kenya2: String,
    pub france: String,
    pub kenya_org: String,
    pub france_org: String,
    pub kit: Value,
    pub module: String,
    pub revision: String,
}

impl Committee {
    pub async fn start(b: Backend) -> Option<Self> {
        Self::start_with(b, Options::default()).await
    }

    /// The committee on a server with other options.
    pub async fn start_with(b: Backend, opts: Options) -> Option<Self> {
        Some(Self::on(TestServer::start_with(b, opts).await?).await)
    }

    /// The committee on a server already started.
    pub async fn on(s: TestServer) -> Self {
        let admin = s.secretariat().await;
        s.org("Brazil", Some("BR")).await;
        let kenya_org = s.org("Kenya", Some("KE")).await;
        let france_org = s.org("France", Some("FR")).await;
        let rapp = s
            .user("rapporteur@example.br", "Brazil", &[Role::Member])
            .await;
        let rapp2 = s.user("other@example.br", "Brazil", &[Role::Member]).await;
        s.user("wanjiru@example.ke", "Kenya", &[Role::Member]).await;
        s.user("otieno@example.ke", "Kenya", &[Role::Member]).await;
        s.user("elodie@example.fr", "France", &[Role::Member]).await;
        let create_q = "mutation($c: String!) { createQuestion(input: {code: $c, title: \"e-services\"}) { question { id } } }";
        let assign = "mutation($q: ID!, $u: ID!) { assignRapporteur(input: {questionId: $q, userId: $u}) { user { id } } }";
        let q = s.ok(Some(&admin), create_q, json!({ "c": "17-2/2" })).await["createQuestion"]
            ["question"]["id"]
            .clone();
        let q2 = s.ok(Some(&admin), create_q, json!({ "c": "18-2/2" })).await["createQuestion"]
            ["question"]["id"]
            .clone();
        s.ok(Some(&admin), assign, json!({ "q": q, "u": rapp }))
            .await;
        s.ok(Some(&admin), assign, json!({ "q": q2, "u": rapp2 }))
            .await;
        let rapporteur = s.login("rapporteur@example.br", PASSWORD).await;
        let kit = s.ok(Some(&rapporteur), "mutation($q: ID!) { createKit(input: {questionId: $q, title: \"e-Government\"}) { kit { id } } }", json!({ "q": q })).await
        ["createKit"]["kit"]["id"].clone();
        let module = s.ok(Some(&rapporteur), "mutation($k: ID!) { createModule(input: {kitId: $k, number: 1, title: \"Readiness\"}) { module { id } } }", json!({ "k": kit })).await
        ["createModule"]["module"]["id"].as_str().expect("module").to_owned();
        let revision = s
            .ok(
                Some(&rapporteur),
                CREATE_REVISION,
                json!({ "i": { "moduleId": module, "markdown": REV1, "summary": "first" } }),
            )
            .await["createRevision"]["revision"]["id"]
            .as_str()
            .expect("revision")
            .to_owned();
        let viewer_id = |t: String| {
            let s = &s;
            async move {
                s.ok(Some(&t), "{ viewer { id } }", json!({})).await["viewer"]["id"]
                    .as_str()
                    .expect("viewer")
                    .to_owned()
            }
        };
        let admin_id = viewer_id(admin.clone()).await;
        let rapporteur_id = viewer_id(rapporteur.clone()).await;
        Committee {
            other_rapporteur: s.login("other@example.br", PASSWORD).await,
            kenya: s.login("wanjiru@example.ke", PASSWORD).await,
            kenya2: s.login("otieno@example.ke", PASSWORD).await,
            france: s.login("elodie@example.fr", PASSWORD).await,
            s,
            admin,
            admin_id,
            rapporteur,
            rapporteur_id,
            kenya_org,
            france_org,
            kit,
            module,
            revision,
        }
    }
}
