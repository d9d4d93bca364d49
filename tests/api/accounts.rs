//! The secretariat's administration: organizations, users, questions, rapporteurs;
//! global ids and pagination; who may call what.

use kitreview::domain::accounts::Role;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::{code, Backend, TestServer, PASSWORD};

const CREATE_ORG: &str = "mutation($i: CreateOrganizationInput!) { createOrganization(input: $i) { organization { id name shortName kind countryCode region } } }";
const CREATE_USER: &str = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id email displayName roles active organization { shortName } } } }";
const CREATE_Q: &str = "mutation($i: CreateQuestionInput!) { createQuestion(input: $i) { question { id code title studyGroup } } }";

fn field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or("")
}

async fn count(s: &TestServer, token: &str, list: &str) -> i64 {
    let data = s
        .ok(
            Some(token),
            &format!("{{ {list} {{ totalCount }} }}"),
            json!({}),
        )
        .await;
    data[list]["totalCount"].as_i64().expect("count")
}

async fn secretariat_manages_organizations(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let admin = s.secretariat().await;
    let data = s
        .ok(Some(&admin), CREATE_ORG, json!({ "i": { "name": "Republic of Kenya", "shortName": "Kenya", "kind": "MEMBER_STATE", "countryCode": "ke", "region": "AFRICA" } }))
        .await;
    let org = &data["createOrganization"]["organization"];
    assert_eq!(org["countryCode"], "KE");
    assert_eq!(org["region"], "AFRICA");
    let id = org["id"].as_str().expect("id").to_owned();

    // Bad input: a clear code and field, and nothing written.
    let before = count(&s, &admin, "organizations").await;
    let cases = [
        (
            json!({ "name": "Atlantis", "shortName": "Atl", "kind": "MEMBER_STATE" }),
            "countryCode",
        ),
        (
            json!({ "name": "Atlantis", "shortName": "Atl", "kind": "MEMBER_STATE", "countryCode": "XX" }),
            "countryCode",
        ),
        (
            json!({ "name": "  ", "shortName": "Atl", "kind": "OBSERVER" }),
            "name",
        ),
        (
            json!({ "name": "Bad", "shortName": "<b>", "kind": "OBSERVER" }),
            "shortName",
        ),
    ];
    for (input, f) in cases {
        let body = s.gql(Some(&admin), CREATE_ORG, json!({ "i": input })).await;
        assert_eq!(code(&body), "VALIDATION", "{input}");
        assert_eq!(field(&body), f, "{input}");
    }
    // Short names are unique case-insensitively.
    let body = s
        .gql(
            Some(&admin),
            CREATE_ORG,
            json!({ "i": { "name": "Kenya again", "shortName": "KENYA", "kind": "OBSERVER" } }),
        )
        .await;
    assert_eq!(code(&body), "CONFLICT");
    // Unknown input fields are refused by the schema.
    let body = s
        .gql(
            Some(&admin),
            CREATE_ORG,
            json!({ "i": { "name": "X", "shortName": "X", "kind": "OBSERVER", "colour": "red" } }),
        )
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(count(&s, &admin, "organizations").await, before);

    // Update: omitted fields stay, null clears.
    let q = "mutation($i: UpdateOrganizationInput!) { updateOrganization(input: $i) { organization { name shortName countryCode region } } }";
    let data = s
        .ok(
            Some(&admin),
            q,
            json!({ "i": { "organizationId": id, "name": "Kenya (Republic of)", "region": null } }),
        )
        .await;
    let org = &data["updateOrganization"]["organization"];
    assert_eq!(org["name"], "Kenya (Republic of)");
    assert_eq!(org["countryCode"], "KE");
    assert!(org["region"].is_null());
    // A member state cannot lose its country code.
    let body = s
        .gql(
            Some(&admin),
            q,
            json!({ "i": { "organizationId": id, "countryCode": null } }),
        )
        .await;
    assert_eq!(field(&body), "countryCode");
    let body = s
        .gql(
            Some(&admin),
            q,
            json!({ "i": { "organizationId": "T3JnYW5pemF0aW9uOjk5OTk", "name": "x" } }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
}

async fn secretariat_manages_users(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let admin = s.secretariat().await;
    let kenya = s.org("Kenya", Some("KE")).await;
    let input = json!({ "email": "Wanjiru@Example.KE", "displayName": "Wanjiru Kamau", "organizationId": kenya, "roles": ["MEMBER"], "initialPassword": PASSWORD });
    let data = s.ok(Some(&admin), CREATE_USER, json!({ "i": input })).await;
    let user = &data["createUser"]["user"];
    assert_eq!(user["organization"]["shortName"], "Kenya");
    assert_eq!(user["active"], true);
    let user_id = user["id"].as_str().expect("id").to_owned();
    // The new user can sign in.
    let member = s.login("wanjiru@example.ke", PASSWORD).await;

    let before = count(&s, &admin, "users").await;
    let mut dup = input.clone();
    dup["email"] = json!("WANJIRU@example.ke");
    let body = s.gql(Some(&admin), CREATE_USER, json!({ "i": dup })).await;
    assert_eq!(
        code(&body),
        "CONFLICT",
        "e-mail addresses are unique case-insensitively"
    );
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("already exists"));
    let cases = [
        (
            json!({ "email": "not-an-email", "displayName": "X", "organizationId": kenya, "roles": ["MEMBER"], "initialPassword": PASSWORD }),
            "email",
        ),
        (
            json!({ "email": "x@example.org", "displayName": "X", "roles": ["MEMBER"], "initialPassword": PASSWORD }),
            "organizationId",
        ),
        (
            json!({ "email": "x@example.org", "displayName": "X", "organizationId": kenya, "roles": [], "initialPassword": PASSWORD }),
            "roles",
        ),
        (
            json!({ "email": "x@example.org", "displayName": "X", "organizationId": kenya, "roles": ["MEMBER"], "initialPassword": "short" }),
            "password",
        ),
        (
            json!({ "email": "x@example.org", "displayName": "X", "organizationId": kenya, "roles": ["MEMBER"] }),
            "password",
        ),
        (
            json!({ "email": "x@example.org", "displayName": "X", "organizationId": "bogus", "roles": ["MEMBER"], "initialPassword": PASSWORD }),
            "organizationId",
        ),
    ];
    for (input, f) in cases {
        let body = s
            .gql(Some(&admin), CREATE_USER, json!({ "i": input }))
            .await;
        assert_eq!(code(&body), "VALIDATION", "{input}");
        assert_eq!(field(&body), f, "{input}");
    }
    assert_eq!(count(&s, &admin, "users").await, before);

    // A SECRETARIAT user without an organization belongs to ITU.
    let data = s
        .ok(Some(&admin), CREATE_USER, json!({ "i": { "email": "bdt@itu.example", "displayName": "BDT", "roles": ["SECRETARIAT"], "initialPassword": PASSWORD } }))
        .await;
    assert_eq!(
        data["createUser"]["user"]["organization"]["shortName"],
        "ITU"
    );

    // E-mail addresses are shown to the user and the secretariat only.
    let q = "query($id: ID!) { node(id: $id) { ... on User { email displayName } } }";
    assert_eq!(
        s.ok(Some(&member), q, json!({ "id": user_id })).await["node"]["email"],
        "Wanjiru@Example.KE"
    );
    let admin_id = s.ok(Some(&admin), "{ viewer { id } }", json!({})).await["viewer"]["id"].clone();
    // The directory is the secretariat's: another account is not found by id.
    let seen = s.ok(Some(&member), q, json!({ "id": admin_id })).await;
    assert!(seen["node"].is_null(), "{seen}");

    // Update.
    let q =
        "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { displayName roles } } }";
    let data = s.ok(Some(&admin), q, json!({ "i": { "userId": user_id, "displayName": "W. Kamau", "roles": ["MEMBER", "RAPPORTEUR"] } })).await;
    assert_eq!(
        data["updateUser"]["user"]["roles"],
        json!(["MEMBER", "RAPPORTEUR"])
    );
    // The secretariat cannot lock itself out.
    let body = s
        .gql(
            Some(&admin),
            q,
            json!({ "i": { "userId": admin_id, "roles": ["MEMBER"] } }),
        )
        .await;
    assert_eq!(field(&body), "roles");
    let body = s
        .gql(
            Some(&admin),
            "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { id } } }",
            json!({ "id": admin_id }),
        )
        .await;
    assert_eq!(code(&body), "VALIDATION");
}

async fn members_cannot_administer(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let admin = s.secretariat().await;
    let kenya = s.org("Kenya", Some("KE")).await;
    let victim = s.user("other@example.ke", "Kenya", &[Role::Member]).await;
    s.user("member@example.ke", "Kenya", &[Role::Member]).await;
    s.user("rapp@example.ke", "Kenya", &[Role::Rapporteur])
        .await;
    let member = s.login("member@example.ke", PASSWORD).await;
    let rapporteur = s.login("rapp@example.ke", PASSWORD).await;
    let orgs_before = count(&s, &admin, "organizations").await;
    let users_before = count(&s, &admin, "users").await;
    let mutations = [
        (CREATE_ORG, json!({ "i": { "name": "X", "shortName": "X", "kind": "OBSERVER" } })),
        ("mutation($i: UpdateOrganizationInput!) { updateOrganization(input: $i) { organization { id } } }", json!({ "i": { "organizationId": kenya, "name": "Pwned" } })),
        (CREATE_USER, json!({ "i": { "email": "x@example.org", "displayName": "X", "organizationId": kenya, "roles": ["SECRETARIAT"], "initialPassword": PASSWORD } })),
        ("mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { id } } }", json!({ "i": { "userId": victim, "roles": ["SECRETARIAT"] } })),
        ("mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { id } } }", json!({ "id": victim })),
        ("mutation($id: ID!) { reactivateUser(input: {userId: $id}) { user { id } } }", json!({ "id": victim })),
        (CREATE_Q, json!({ "i": { "code": "1/2", "title": "X" } })),
        ("mutation($q: ID!, $u: ID!) { assignRapporteur(input: {questionId: $q, userId: $u}) { user { id } } }", json!({ "q": "UXVlc3Rpb246MQ", "u": victim })),
    ];
    for (q, vars) in &mutations {
        for (who, token) in [
            ("member", Some(member.as_str())),
            ("rapporteur", Some(rapporteur.as_str())),
            ("anonymous", None),
        ] {
            let body = s.gql(token, q, vars.clone()).await;
            let expected = if token.is_some() {
                "FORBIDDEN"
            } else {
                "UNAUTHENTICATED"
            };
            assert_eq!(code(&body), expected, "{who}: {q}");
        }
    }
    // Lists of users are the secretariat's.
    assert_eq!(
        code(
            &s.gql(Some(&member), "{ users { totalCount } }", json!({}))
                .await
        ),
        "FORBIDDEN"
    );
    assert_eq!(count(&s, &admin, "organizations").await, orgs_before);
    assert_eq!(count(&s, &admin, "users").await, users_before);
    let data = s
        .ok(
            Some(&admin),
            "query($id: ID!) { node(id: $id) { ... on Organization { name } } }",
            json!({ "id": kenya }),
        )
        .await;
    assert_eq!(data["node"]["name"], "Kenya (test)");
}

async fn questions_and_rapporteurs(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let admin = s.secretariat().await;
    s.org("Brazil", Some("BR")).await;
    let data = s
        .ok(Some(&admin), CREATE_Q, json!({ "i": { "code": "17-2/2", "title": "E-services and ICT applications", "studyGroup": 2 } }))
        .await;
    let q = &data["createQuestion"]["question"];
    assert_eq!(q["studyGroup"], 2);
    let qid = q["id"].as_str().expect("id").to_owned();
    for (input, f) in [
        (json!({ "code": "17-2", "title": "X" }), "code"),
        (
            json!({ "code": "17-2/2", "title": "X", "studyGroup": 1 }),
            "studyGroup",
        ),
        (json!({ "code": "3/1", "title": "" }), "title"),
    ] {
        let body = s.gql(Some(&admin), CREATE_Q, json!({ "i": input })).await;
        assert_eq!(field(&body), f, "{input}");
    }
    let body = s
        .gql(
            Some(&admin),
            CREATE_Q,
            json!({ "i": { "code": "17-2/2", "title": "Again" } }),
        )
        .await;
    assert_eq!(code(&body), "CONFLICT");

    let rafael = s.user("rafael@example.br", "Brazil", &[Role::Member]).await;
    let assign = "mutation($q: ID!, $u: ID!) { assignRapporteur(input: {questionId: $q, userId: $u}) { question { rapporteurs { displayName } } user { roles rapporteurOf { code } } } }";
    let data = s
        .ok(Some(&admin), assign, json!({ "q": qid, "u": rafael }))
        .await;
    assert_eq!(
        data["assignRapporteur"]["user"]["roles"],
        json!(["MEMBER", "RAPPORTEUR"])
    );
    assert_eq!(
        data["assignRapporteur"]["user"]["rapporteurOf"],
        json!([{ "code": "17-2/2" }])
    );
    assert_eq!(
        data["assignRapporteur"]["question"]["rapporteurs"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // Assigning twice is harmless.
    s.ok(Some(&admin), assign, json!({ "q": qid, "u": rafael }))
        .await;

    let token = s.login("rafael@example.br", PASSWORD).await;
    let view = "{ question(code: \"17-2/2\") { viewerCanManage rapporteurs { displayName } } }";
    assert_eq!(
        s.ok(Some(&token), view, json!({})).await["question"]["viewerCanManage"],
        true
    );
    s.user("kamau@example.br", "Brazil", &[Role::Member]).await;
    let other = s.login("kamau@example.br", PASSWORD).await;
    assert_eq!(
        s.ok(Some(&other), view, json!({})).await["question"]["viewerCanManage"],
        false
    );

    let unassign = "mutation($q: ID!, $u: ID!) { unassignRapporteur(input: {questionId: $q, userId: $u}) { question { rapporteurs { displayName } } } }";
    let data = s
        .ok(Some(&admin), unassign, json!({ "q": qid, "u": rafael }))
        .await;
    assert_eq!(
        data["unassignRapporteur"]["question"]["rapporteurs"],
        json!([])
    );
    // The change applies to the rapporteur's next request, with the same token.
    assert_eq!(
        s.ok(Some(&token), view, json!({})).await["question"]["viewerCanManage"],
        false
    );
    let body = s
        .gql(Some(&admin), unassign, json!({ "q": qid, "u": rafael }))
        .await;
    assert_eq!(code(&body), "VALIDATION");
    let body = s
        .gql(
            Some(&admin),
            assign,
            json!({ "q": "UXVlc3Rpb246OTk5", "u": rafael }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    let body = s
        .gql(Some(&admin), assign, json!({ "q": rafael, "u": rafael }))
        .await;
    assert_eq!(
        code(&body),
        "VALIDATION",
        "a user id where a question id belongs"
    );
}

async fn global_ids_and_nodes(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let admin = s.secretariat().await;
    let org = s.org("OECD", None).await;
    let user = s.user("o@oecd.example", "OECD", &[Role::Member]).await;
    let qid = s
        .ok(
            Some(&admin),
            CREATE_Q,
            json!({ "i": { "code": "17-2/2", "title": "T" } }),
        )
        .await["createQuestion"]["question"]["id"]
        .clone();
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";
    let missing = "UXVlc3Rpb246OTk5"; // Question:999
    let data = s
        .ok(Some(&admin), q, json!({ "ids": [user, org, qid, missing] }))
        .await;
    let nodes = data["nodes"].as_array().expect("list");
    assert_eq!(nodes[0]["__typename"], "User");
    assert_eq!(nodes[1]["__typename"], "Organization");
    assert_eq!(nodes[2]["__typename"], "Question");
    assert_eq!(nodes[0]["id"], json!(user));
    assert!(nodes[3].is_null());
    let body = s
        .gql(
            Some(&admin),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": "garbage!" }),
        )
        .await;
    assert_eq!(code(&body), "VALIDATION");
    let many: Vec<String> = (0..101).map(|_| org.clone()).collect();
    let body = s.gql(Some(&admin), q, json!({ "ids": many })).await;
    assert_eq!(code(&body), "VALIDATION");
    let body = s
        .gql(
            None,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": org }),
        )
        .await;
    assert_eq!(code(&body), "UNAUTHENTICATED");
}

async fn lists_page_with_cursors(b: Backend) {
    let Some(s) = TestServer::start(b).await else {
        return;
    };
    let admin = s.secretariat().await;
    for i in 0..24 {
        s.org(&format!("Org {i:02}"), None).await;
    }
    // 24 + ITU.
    let q = "query($f: Int, $a: String, $l: Int, $b: String) { organizations(first: $f, after: $a, last: $l, before: $b) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { shortName } } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = s.ok(Some(&admin), q, json!({ "f": 10, "a": after })).await;
        let c = &data["organizations"];
        assert_eq!(c["totalCount"], 25);
        for e in c["edges"].as_array().expect("edges") {
            seen.push(e["node"]["shortName"].as_str().expect("name").to_owned());
        }
        if c["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 25);
    assert_eq!(seen[0], "ITU");
    assert_eq!(seen[24], "Org 23");
    // Backwards from the end.
    let data = s.ok(Some(&admin), q, json!({ "l": 3 })).await;
    let names: Vec<_> = data["organizations"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["shortName"].clone())
        .collect();
    assert_eq!(
        names,
        vec![json!("Org 21"), json!("Org 22"), json!("Org 23")]
    );
    assert_eq!(data["organizations"]["pageInfo"]["hasPreviousPage"], true);
    let start = data["organizations"]["pageInfo"]["startCursor"].clone();
    let data = s.ok(Some(&admin), q, json!({ "l": 2, "b": start })).await;
    assert_eq!(
        data["organizations"]["edges"][1]["node"]["shortName"],
        "Org 20"
    );
    for (vars, f) in [
        (json!({ "f": 101 }), "first"),
        (json!({ "f": -1 }), "first"),
        (json!({ "f": 1, "l": 1 }), "last"),
        (json!({ "a": "bogus" }), "after"),
    ] {
        let body = s.gql(Some(&admin), q, vars.clone()).await;
        assert_eq!(code(&body), "VALIDATION", "{vars}");
        assert_eq!(field(&body), f, "{vars}");
    }
}

backend_tests!(
    secretariat_manages_organizations,
    secretariat_manages_users,
    members_cannot_administer,
    questions_and_rapporteurs,
    global_ids_and_nodes,
    lists_page_with_cursors,
);
