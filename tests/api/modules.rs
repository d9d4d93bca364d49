//! Kits, modules, immutable revisions with anchored sections and blocks, diffs, and the demo.

use kitreview::domain::accounts::Role;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::{code, Backend, Options, TestServer, PASSWORD};

const REV1: &str = include_str!("../../src/demo/content/egov-module1-rev1.md");
const REV2: &str = include_str!("../../src/demo/content/egov-module1-rev2.md");

const CREATE_REVISION: &str = "mutation($i: CreateRevisionInput!) { createRevision(input: $i) { revision { id number summary contentHash wordCount baseRevision { number } author { displayName } } } }";

/// A question with a rapporteur, a member, a kit and an empty module.
struct Setup {
    s: TestServer,
    rapporteur: String,
    member: String,
    admin: String,
    question: String,
    kit: String,
    module: String,
}

async fn setup(b: Backend, opts: Options) -> Option<Setup> {
    let s = TestServer::start_with(b, opts).await?;
    let admin = s.secretariat().await;
    s.org("Brazil", Some("BR")).await;
    s.org("Kenya", Some("KE")).await;
    let rapp_id = s
        .user("rapporteur@example.br", "Brazil", &[Role::Member])
        .await;
    s.user("delegate@example.ke", "Kenya", &[Role::Member])
        .await;
    let q = s
        .ok(Some(&admin), r#"mutation { createQuestion(input: {code: "17-2/2", title: "e-services"}) { question { id } } }"#, json!({}))
        .await["createQuestion"]["question"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    s.ok(
        Some(&admin),
        "mutation($q: ID!, $u: ID!) { assignRapporteur(input: {questionId: $q, userId: $u}) { user { id } } }",
        json!({ "q": q, "u": rapp_id }),
    )
    .await;
    let rapporteur = s.login("rapporteur@example.br", PASSWORD).await;
    let member = s.login("delegate@example.ke", PASSWORD).await;
    let kit = s
        .ok(
            Some(&rapporteur),
            "mutation($q: ID!) { createKit(input: {questionId: $q, title: \"ITU e-Government Toolkit\", description: \"Modules\"}) { kit { id viewerCanEdit } } }",
            json!({ "q": q }),
        )
        .await["createKit"]["kit"]["id"]
        .as_str()
        .expect("kit")
        .to_owned();
    let module = s
        .ok(
            Some(&rapporteur),
            "mutation($k: ID!) { createModule(input: {kitId: $k, number: 1, title: \"e-Government readiness assessment framework\"}) { module { id status revisionCount } } }",
            json!({ "k": kit }),
        )
        .await["createModule"]["module"]["id"]
        .as_str()
        .expect("module")
        .to_owned();
    Some(Setup {
        s,
        rapporteur,
        member,
        admin,
        question: q,
        kit,
        module,
    })
}

async fn revise(t: &Setup, base: Value, markdown: &str, summary: &str) -> Value {
    t.s.gql(
        Some(&t.rapporteur),
        CREATE_REVISION,
        json!({ "i": { "moduleId": t.module, "baseRevisionId": base, "markdown": markdown, "summary": summary } }),
    )
    .await
}

async fn revision_count(t: &Setup) -> i64 {
    let q = "query($m: ID!) { node(id: $m) { ... on Module { revisionCount } } }";
    t.s.ok(Some(&t.member), q, json!({ "m": t.module })).await["node"]["revisionCount"]
        .as_i64()
        .expect("count")
}

const READ: &str = "query($m: ID!, $n: Int!) { node(id: $m) { ... on Module { status currentRevision { number } revision(number: $n) { number markdown text contentHash wordCount sections { anchorId clause title level blocks { anchorId kind text markdown sectionAnchorId } } } } } }";

async fn rapporteurs_publish_numbered_immutable_revisions(b: Backend) {
    let Some(t) = setup(b, Options::default()).await else {
        return;
    };
    // Byte for byte, CRLF and trailing spaces included.
    let md = "# Module 1: Draft\r\n\r\n## 1 Scope\r\n\r\nThe framework covers four dimensions.  \r\n\r\n- infrastructure\r\n- policy\r\n";
    let body = revise(&t, Value::Null, md, "First draft").await;
    let rev = &body["data"]["createRevision"]["revision"];
    assert_eq!(rev["number"], 1, "{body}");
    assert!(rev["baseRevision"].is_null());
    assert_eq!(rev["author"]["displayName"], "Test rapporteur@example.br");
    assert_eq!(
        rev["contentHash"],
        kitreview::domain::document::content_hash(md)
    );
    assert_eq!(rev["wordCount"], 12, "3 + 2 words of headings, 7 of blocks");
    let r1 = rev["id"].clone();

    let data =
        t.s.ok(Some(&t.member), READ, json!({ "m": t.module, "n": 1 }))
            .await;
    let r = &data["node"]["revision"];
    assert_eq!(r["markdown"], md);
    assert_eq!(r["text"], "Module 1: Draft\n\n1 Scope\n\nThe framework covers four dimensions.\n\ninfrastructure\n\npolicy");
    let sections = r["sections"].as_array().expect("sections");
    assert_eq!(sections.len(), 2);
    assert_eq!(
        (
            sections[1]["clause"].as_str(),
            sections[1]["title"].as_str()
        ),
        (Some("1"), Some("Scope"))
    );
    let blocks = sections[1]["blocks"].as_array().expect("blocks");
    assert_eq!(blocks.len(), 3);
    assert_eq!(blocks[0]["kind"], "PARAGRAPH");
    assert_eq!(blocks[1]["kind"], "LIST_ITEM");
    assert_eq!(
        blocks[0]["markdown"],
        "The framework covers four dimensions."
    );
    assert_eq!(blocks[0]["sectionAnchorId"], sections[1]["anchorId"]);
    let anchor = blocks[0]["anchorId"].as_str().expect("anchor").to_owned();
    let q = "query($r: ID!, $a: String!) { node(id: $r) { ... on Revision { number block(anchorId: $a) { text } section(anchorId: \"nope\") { title } } } }";
    let data =
        t.s.ok(Some(&t.member), q, json!({ "r": r1, "a": anchor }))
            .await;
    assert_eq!(
        data["node"]["block"]["text"],
        "The framework covers four dimensions."
    );
    assert!(data["node"]["section"].is_null());

    // Revision 2, based on 1: unchanged and moved blocks keep their anchors.
    let md2 = "# Module 1: Draft\n\n## 1 Scope\n\n- policy\n- infrastructure\n- governance\n\nThe framework covers five dimensions.\n";
    let body = revise(&t, r1.clone(), md2, "Reordered the list; a fifth dimension").await;
    assert_eq!(
        body["data"]["createRevision"]["revision"]["number"], 2,
        "{body}"
    );
    assert_eq!(
        body["data"]["createRevision"]["revision"]["baseRevision"]["number"],
        1
    );
    let data =
        t.s.ok(Some(&t.member), READ, json!({ "m": t.module, "n": 2 }))
            .await;
    assert_eq!(data["node"]["currentRevision"]["number"], 2);
    let blocks2 = data["node"]["revision"]["sections"][1]["blocks"]
        .as_array()
        .expect("blocks")
        .clone();
    let anchor_of = |blocks: &[Value], text: &str| {
        blocks
            .iter()
            .find(|b| b["text"] == text)
            .map(|b| b["anchorId"].as_str().unwrap_or("").to_owned())
    };
    assert_eq!(anchor_of(&blocks2, "policy"), anchor_of(blocks, "policy"));
    assert_eq!(
        anchor_of(&blocks2, "infrastructure"),
        anchor_of(blocks, "infrastructure")
    );
    assert_ne!(
        anchor_of(&blocks2, "The framework covers five dimensions."),
        Some(anchor.clone())
    );
    assert_eq!(
        data["node"]["revision"]["sections"][1]["anchorId"],
        sections[1]["anchorId"]
    );

    // Revision 1 is unchanged by revision 2.
    let data =
        t.s.ok(Some(&t.member), READ, json!({ "m": t.module, "n": 1 }))
            .await;
    assert_eq!(data["node"]["revision"]["markdown"], md);

    // Newest first, with pagination.
    let q = "query($m: ID!) { node(id: $m) { ... on Module { revisions(first: 1) { totalCount pageInfo { hasNextPage endCursor } nodes { number } } } } }";
    let data = t.s.ok(Some(&t.member), q, json!({ "m": t.module })).await;
    let c = &data["node"]["revisions"];
    assert_eq!(c["totalCount"], 2);
    assert_eq!(c["nodes"][0]["number"], 2);
    assert_eq!(c["pageInfo"]["hasNextPage"], true);
    let q = "query($m: ID!, $a: String) { node(id: $m) { ... on Module { revisions(first: 5, after: $a) { pageInfo { hasNextPage } nodes { number } } } } }";
    let data =
        t.s.ok(
            Some(&t.member),
            q,
            json!({ "m": t.module, "a": c["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(data["node"]["revisions"]["nodes"], json!([{ "number": 1 }]));
    assert_eq!(data["node"]["revisions"]["pageInfo"]["hasNextPage"], false);

    // The kit, module and question hang together.
    let q = "query($q: ID!) { node(id: $q) { ... on Question { kits { title viewerCanEdit modules { number title revisionCount kit { title } } } } } }";
    let data = t.s.ok(Some(&t.member), q, json!({ "q": t.question })).await;
    assert_eq!(data["node"]["kits"][0]["viewerCanEdit"], false);
    assert_eq!(data["node"]["kits"][0]["modules"][0]["revisionCount"], 2);
    let data =
        t.s.ok(Some(&t.rapporteur), q, json!({ "q": t.question }))
            .await;
    assert_eq!(data["node"]["kits"][0]["viewerCanEdit"], true);
}

async fn stale_or_missing_bases_conflict(b: Backend) {
    let Some(t) = setup(b, Options::default()).await else {
        return;
    };
    let r1 = revise(&t, Value::Null, "# A\n\none\n", "first").await["data"]["createRevision"]
        ["revision"]["id"]
        .clone();
    // A second revision 1 is refused: the base must be the latest.
    assert_eq!(
        code(&revise(&t, Value::Null, "# A\n\nagain\n", "again").await),
        "CONFLICT"
    );
    let r2 = revise(&t, r1.clone(), "# A\n\ntwo\n", "second").await["data"]["createRevision"]
        ["revision"]["id"]
        .clone();
    assert!(r2.is_string());
    let body = revise(&t, r1.clone(), "# A\n\nstale\n", "stale").await;
    assert_eq!(code(&body), "CONFLICT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("revision 2"),
        "{body}"
    );
    assert_eq!(revision_count(&t).await, 2);

    // Two rapporteurs publishing on the same base at once: one wins, one gets CONFLICT.
    let (a, b2) = tokio::join!(
        revise(&t, r2.clone(), "# A\n\nthree by one\n", "mine"),
        revise(&t, r2.clone(), "# A\n\nthree by other\n", "theirs"),
    );
    let wins = [&a, &b2]
        .iter()
        .filter(|r| r["data"]["createRevision"]["revision"]["number"] == 3)
        .count();
    let conflicts = [&a, &b2]
        .iter()
        .filter(|r| r.get("errors").is_some() && code(r) == "CONFLICT")
        .count();
    assert_eq!((wins, conflicts), (1, 1), "{a}\n{b2}");
    assert_eq!(revision_count(&t).await, 3);
}

async fn bad_drafts_are_refused_and_nothing_is_written(b: Backend) {
    let mut opts = Options::default();
    opts.limits.max_markdown_bytes = 64 * 1024;
    let Some(t) = setup(b, opts).await else {
        return;
    };
    let too_big = "A paragraph of words.\n\n".repeat(4000);
    for (md, summary, field) in [
        (too_big.as_str(), "big", "markdown"),
        ("   \n\n\t\n", "empty", "markdown"),
        ("# Title\n\nnul \u{0} inside\n", "nul", "markdown"),
        ("# Fine\n\ntext\n", "   ", "summary"),
    ] {
        let body = revise(&t, Value::Null, md, summary).await;
        assert_eq!(code(&body), "VALIDATION", "{summary}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
    // Invalid UTF-8 never reaches the service: the request itself is refused.
    let prefix = format!(
        r#"{{"query":"mutation($i: CreateRevisionInput!) {{ createRevision(input: $i) {{ revision {{ id }} }} }}","variables":{{"i":{{"moduleId":"{}","summary":"x","markdown":"bad "#,
        t.module
    );
    let mut bytes = prefix.into_bytes();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(br#""}}}"#);
    let res =
        t.s.http
            .post(t.s.url("/graphql"))
            .bearer_auth(&t.rapporteur)
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(bytes)
            .send()
            .await
            .expect("request");
    assert_eq!(res.status().as_u16(), 400);
    let body: Value = res.json().await.expect("json");
    assert_eq!(code(&body), "BAD_REQUEST");

    // A member may not publish; unknown and wrong ids are named.
    let body =
        t.s.gql(
            Some(&t.member),
            CREATE_REVISION,
            json!({ "i": { "moduleId": t.module, "markdown": "# A\n\nx\n", "summary": "s" } }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
    let body = t
        .s
        .gql(Some(&t.rapporteur), CREATE_REVISION, json!({ "i": { "moduleId": "TW9kdWxlOjk5OQ", "markdown": "# A\n\nx\n", "summary": "s" } }))
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    let body =
        t.s.gql(
            Some(&t.rapporteur),
            CREATE_REVISION,
            json!({ "i": { "moduleId": t.kit, "markdown": "# A\n\nx\n", "summary": "s" } }),
        )
        .await;
    assert_eq!(code(&body), "VALIDATION");
    assert_eq!(revision_count(&t).await, 0);

    // A WITHDRAWN module takes no revision.
    let q = "mutation($m: ID!, $s: ModuleStatus!) { updateModule(input: {moduleId: $m, status: $s}) { module { status } } }";
    let body =
        t.s.gql(
            Some(&t.rapporteur),
            q,
            json!({ "m": t.module, "s": "IN_REVIEW" }),
        )
        .await;
    assert_eq!(
        code(&body),
        "VALIDATION",
        "IN_REVIEW follows the review cycles"
    );
    assert_eq!(
        code(
            &t.s.gql(
                Some(&t.member),
                q,
                json!({ "m": t.module, "s": "WITHDRAWN" })
            )
            .await
        ),
        "FORBIDDEN"
    );
    let data =
        t.s.ok(
            Some(&t.rapporteur),
            q,
            json!({ "m": t.module, "s": "WITHDRAWN" }),
        )
        .await;
    assert_eq!(data["updateModule"]["module"]["status"], "WITHDRAWN");
    let body = revise(&t, Value::Null, "# A\n\nx\n", "after withdrawal").await;
    assert_eq!(code(&body), "CONFLICT");
    assert_eq!(revision_count(&t).await, 0);
}

async fn kits_and_modules_belong_to_their_question(b: Backend) {
    let Some(t) = setup(b, Options::default()).await else {
        return;
    };
    // The member cannot create kits or modules; a duplicate module number conflicts.
    let body = t
        .s
        .gql(Some(&t.member), "mutation($q: ID!) { createKit(input: {questionId: $q, title: \"Mine\"}) { kit { id } } }", json!({ "q": t.question }))
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
    let create_module = "mutation($k: ID!, $n: Int!) { createModule(input: {kitId: $k, number: $n, title: \"Second\"}) { module { number } } }";
    assert_eq!(
        code(
            &t.s.gql(
                Some(&t.member),
                create_module,
                json!({ "k": t.kit, "n": 2 })
            )
            .await
        ),
        "FORBIDDEN"
    );
    assert_eq!(
        code(
            &t.s.gql(
                Some(&t.rapporteur),
                create_module,
                json!({ "k": t.kit, "n": 1 })
            )
            .await
        ),
        "CONFLICT"
    );
    assert_eq!(
        t.s.gql(
            Some(&t.rapporteur),
            create_module,
            json!({ "k": t.kit, "n": 0 })
        )
        .await["errors"][0]["extensions"]["field"],
        "number"
    );
    t.s.ok(Some(&t.admin), create_module, json!({ "k": t.kit, "n": 2 }))
        .await;
    // A rapporteur of another question cannot touch this one.
    let other_q = t
        .s
        .ok(Some(&t.admin), r#"mutation { createQuestion(input: {code: "3/1", title: "Other"}) { question { id } } }"#, json!({}))
        .await["createQuestion"]["question"]["id"]
        .clone();
    let other =
        t.s.user("other.rapp@example.ke", "Kenya", &[Role::Member])
            .await;
    t.s.ok(
        Some(&t.admin),
        "mutation($q: ID!, $u: ID!) { assignRapporteur(input: {questionId: $q, userId: $u}) { user { id } } }",
        json!({ "q": other_q, "u": other }),
    )
    .await;
    let other_token = t.s.login("other.rapp@example.ke", PASSWORD).await;
    assert_eq!(
        code(
            &t.s.gql(
                Some(&other_token),
                create_module,
                json!({ "k": t.kit, "n": 3 })
            )
            .await
        ),
        "FORBIDDEN"
    );
    let body =
        t.s.gql(
            Some(&other_token),
            CREATE_REVISION,
            json!({ "i": { "moduleId": t.module, "markdown": "# A\n\nx\n", "summary": "s" } }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
    // Everyone signed in reads; node() knows kits, modules and revisions.
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename } }";
    let data =
        t.s.ok(Some(&t.member), q, json!({ "ids": [t.kit, t.module] }))
            .await;
    assert_eq!(
        data["nodes"],
        json!([{ "__typename": "Kit" }, { "__typename": "Module" }])
    );
}

const DIFF: &str = "query($m: ID!, $f: Int!, $t: Int!) { node(id: $m) { ... on Module { diff(fromRevision: $f, toRevision: $t) { from { number } to { number } summary { sectionsAdded sectionsRemoved blocksAdded blocksRemoved blocksChanged blocksMoved blocksUnchanged wordsAdded wordsRemoved } sections { status fromSection { clause title } toSection { clause title } blocks { status similarity fromBlock { text } toBlock { text } changes { op text } } } } } } }";

async fn diffs_align_sections_and_blocks_word_by_word(b: Backend) {
    let Some(t) = setup(b, Options::default()).await else {
        return;
    };
    let r1 = revise(&t, Value::Null, REV1, "first").await["data"]["createRevision"]["revision"]
        ["id"]
        .clone();
    revise(&t, r1, REV2, "second").await;
    let data =
        t.s.ok(
            Some(&t.member),
            DIFF,
            json!({ "m": t.module, "f": 1, "t": 2 }),
        )
        .await;
    let d = &data["node"]["diff"];
    // The demo's second revision: 5 rewordings and a table row changed, 2 removed,
    // 3 added plus a new subsection of 2 paragraphs, 1 moved.
    assert_eq!(
        d["summary"],
        json!({ "sectionsAdded": 1, "sectionsRemoved": 0, "blocksAdded": 5, "blocksRemoved": 2, "blocksChanged": 6, "blocksMoved": 1, "blocksUnchanged": 62, "wordsAdded": d["summary"]["wordsAdded"], "wordsRemoved": d["summary"]["wordsRemoved"] })
    );
    let sections = d["sections"].as_array().expect("sections");
    let added: Vec<_> = sections
        .iter()
        .filter(|s| s["status"] == "ADDED")
        .map(|s| s["toSection"]["clause"].clone())
        .collect();
    assert_eq!(added, vec![json!("2.4.1")]);
    let renamed = sections
        .iter()
        .find(|s| s["toSection"]["clause"] == "4")
        .expect("clause 4");
    assert_eq!(renamed["status"], "CHANGED");
    assert_eq!(
        renamed["fromSection"]["title"],
        "Conducting a national assessment"
    );
    assert_eq!(
        renamed["toSection"]["title"],
        "Conducting a national readiness assessment"
    );
    let blocks: Vec<&Value> = sections
        .iter()
        .flat_map(|s| s["blocks"].as_array().into_iter().flatten())
        .collect();
    let removed: Vec<_> = blocks
        .iter()
        .filter(|b| b["status"] == "REMOVED")
        .map(|b| b["fromBlock"]["text"].as_str().unwrap_or(""))
        .collect();
    assert!(
        removed.iter().any(|t| t
            .contains("As an indication, a first assessment may take between two and four months")),
        "{removed:?}"
    );
    let moved = blocks
        .iter()
        .find(|b| b["status"] == "MOVED")
        .expect("moved");
    assert!(moved["toBlock"]["text"]
        .as_str()
        .unwrap_or("")
        .starts_with("The subsequent modules of the toolkit will address"));
    // A changed block's runs rebuild both texts.
    let changed = blocks
        .iter()
        .find(|b| {
            b["status"] == "CHANGED"
                && b["toBlock"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .contains("ministries and agencies")
        })
        .expect("changed 2.1");
    let rebuild = |skip: &str| -> String {
        changed["changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["op"] != skip)
            .map(|c| c["text"].as_str().unwrap_or(""))
            .collect()
    };
    assert_eq!(
        rebuild("INSERT"),
        changed["fromBlock"]["text"].as_str().unwrap_or("")
    );
    assert_eq!(
        rebuild("DELETE"),
        changed["toBlock"]["text"].as_str().unwrap_or("")
    );
    assert!(changed["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["op"] == "INSERT" && c["text"].as_str().unwrap_or("").contains("agencies")));

    // The other direction mirrors it.
    let data =
        t.s.ok(
            Some(&t.member),
            DIFF,
            json!({ "m": t.module, "f": 2, "t": 1 }),
        )
        .await;
    let back = &data["node"]["diff"]["summary"];
    assert_eq!(
        (
            back["blocksAdded"].as_i64(),
            back["blocksRemoved"].as_i64(),
            back["blocksChanged"].as_i64()
        ),
        (Some(2), Some(5), Some(6))
    );
    assert_eq!(back["sectionsRemoved"], 1);
    let body =
        t.s.gql(
            Some(&t.member),
            DIFF,
            json!({ "m": t.module, "f": 1, "t": 9 }),
        )
        .await;
    assert_eq!(code(&body), "VALIDATION");
    assert_eq!(body["errors"][0]["extensions"]["field"], "toRevision");
}

async fn french_text_diffs_cleanly(b: Backend) {
    let Some(t) = setup(b, Options::default()).await else {
        return;
    };
    let a = "# Module 1\n\n## 1 Résumé\n\nL'évaluation de « l'état de préparation » au cybergouvernement s'appuie sur quatre dimensions.\n";
    let c = "# Module 1\n\n## 1 Résumé\n\nL'évaluation rapide de « l'état de préparation » au cyberenvironnement s'appuie sur quatre dimensions.\n";
    let r1 =
        revise(&t, Value::Null, a, "v1").await["data"]["createRevision"]["revision"]["id"].clone();
    revise(&t, r1, c, "v2").await;
    let data =
        t.s.ok(
            Some(&t.member),
            DIFF,
            json!({ "m": t.module, "f": 1, "t": 2 }),
        )
        .await;
    let block = &data["node"]["diff"]["sections"][1]["blocks"][0];
    assert_eq!(block["status"], "CHANGED");
    let ops: Vec<(String, String)> = block["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["op"] != "EQUAL")
        .map(|c| {
            (
                c["op"].as_str().unwrap_or("").to_owned(),
                c["text"].as_str().unwrap_or("").trim().to_owned(),
            )
        })
        .collect();
    assert!(
        ops.contains(&("DELETE".into(), "cybergouvernement".into())),
        "{ops:?}"
    );
    assert!(
        ops.contains(&("INSERT".into(), "cyberenvironnement".into())),
        "{ops:?}"
    );
    assert!(
        ops.iter().any(|(op, t)| op == "INSERT" && t == "rapide"),
        "{ops:?}"
    );
    // Nothing inside « l'état de préparation » is touched.
    assert!(
        ops.iter()
            .all(|(_, t)| !t.contains("état") && !t.contains('«')),
        "{ops:?}"
    );
}

async fn the_demo_loads_once(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    kitreview::demo::load(&s.state).await.expect("demo");
    kitreview::demo::load(&s.state).await.expect("demo again");
    let token = s
        .login("rapporteur@itu.example", kitreview::demo::DEMO_PASSWORD)
        .await;
    let q = "{ organizations { totalCount } questions { totalCount nodes { code kits { title modules { number revisionCount revisions { totalCount } reviewCycles { status } currentRevision { number wordCount carriedComments { totalCount nodes { anchor { status } } } } } } } } }";
    let data = s.ok(Some(&token), q, json!({})).await;
    assert_eq!(data["organizations"]["totalCount"], 12);
    assert_eq!(data["questions"]["totalCount"], 1);
    let kits = data["questions"]["nodes"][0]["kits"]
        .as_array()
        .expect("kits");
    let titles: Vec<_> = kits
        .iter()
        .map(|k| k["title"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        titles,
        vec!["ITU e-Government Toolkit", "ITU e-Environment Toolkit"]
    );
    assert_eq!(kits[0]["modules"][0]["revisions"]["totalCount"], 2);
    // The e-Environment cycle was consolidated and revision 2 published.
    assert_eq!(kits[1]["modules"][0]["revisions"]["totalCount"], 2);
    assert_eq!(
        kits[1]["modules"][0]["reviewCycles"][0]["status"],
        "CONSOLIDATED"
    );
    let carried = &kits[1]["modules"][0]["currentRevision"]["carriedComments"];
    assert_eq!(carried["totalCount"], 7, "every comment carried, once");
    let mut statuses: Vec<&str> = carried["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["anchor"]["status"].as_str())
        .collect();
    statuses.sort_unstable();
    statuses.dedup();
    assert_eq!(
        statuses,
        ["EXACT", "FUZZY", "MOVED", "ORPHANED"],
        "every status"
    );
    assert!(
        kits[0]["modules"][0]["currentRevision"]["wordCount"]
            .as_i64()
            .unwrap_or(0)
            > 1500
    );
    let admin = s
        .login("secretariat@itu.example", kitreview::demo::DEMO_PASSWORD)
        .await;
    assert_eq!(
        s.ok(Some(&admin), "{ users { totalCount } }", json!({}))
            .await["users"]["totalCount"],
        6
    );
}

backend_tests!(
    rapporteurs_publish_numbered_immutable_revisions,
    stale_or_missing_bases_conflict,
    bad_drafts_are_refused_and_nothing_is_written,
    kits_and_modules_belong_to_their_question,
    diffs_align_sections_and_blocks_word_by_word,
    french_text_diffs_cleanly,
    the_demo_loads_once,
);
