//! The committed `schema.graphql` is the API's SDL, and the API documents itself.

#[test]
fn committed_schema_matches_the_code() {
    let committed = include_str!("../../schema.graphql");
    let actual = kitreview::graphql::sdl();
    assert!(
        committed == actual,
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql` and commit it"
    );
}

#[tokio::test]
async fn every_type_field_argument_and_value_has_a_description() {
    let schema = kitreview::graphql::build(&kitreview::config::LimitArgs::default());
    let q = r#"{ __schema { types {
        name kind description
        fields { name description args { name description } }
        inputFields { name description }
        enumValues { name description }
    } } }"#;
    let res = schema.execute(q).await;
    assert!(res.errors.is_empty(), "{:?}", res.errors);
    let data = res.data.into_json().expect("json");
    let builtin = [
        "String", "Int", "Float", "Boolean", "ID", "Query", "Mutation",
    ];
    let mut missing = Vec::new();
    let undocumented = |v: &serde_json::Value| {
        v["description"]
            .as_str()
            .is_none_or(|d| d.trim().is_empty())
    };
    for t in data["__schema"]["types"].as_array().expect("types") {
        let name = t["name"].as_str().unwrap_or("");
        if name.starts_with("__") || builtin.contains(&name) && t["kind"] == "SCALAR" {
            continue;
        }
        // async-graphql's generic connection type takes no description; its
        // fields (pageInfo, edges, nodes, totalCount) are documented.
        if !builtin.contains(&name) && !name.ends_with("Connection") && undocumented(t) {
            missing.push(name.to_owned());
        }
        for f in t["fields"].as_array().into_iter().flatten() {
            if undocumented(f) {
                missing.push(format!("{name}.{}", f["name"]));
            }
            for a in f["args"].as_array().into_iter().flatten() {
                if undocumented(a) {
                    missing.push(format!("{name}.{}({})", f["name"], a["name"]));
                }
            }
        }
        for f in t["inputFields"].as_array().into_iter().flatten() {
            if undocumented(f) {
                missing.push(format!("{name}.{}", f["name"]));
            }
        }
        for v in t["enumValues"].as_array().into_iter().flatten() {
            if undocumented(v) {
                missing.push(format!("{name}.{}", v["name"]));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:#?}");
}
