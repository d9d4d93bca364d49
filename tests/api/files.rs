//! Files: the consolidated table as CSV and XLSX downloads (read back and
//! checked cell by cell), and the import of the comments template, on the
//! demo data (a consolidated SEALED cycle, an OPEN cycle taking comments).

use std::io::Cursor;

use chrono::Duration;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::{Backend, Options, TestServer};
use kitreview::demo::DEMO_PASSWORD;

pub struct Demo {
    pub s: TestServer,
    pub rapporteur: String,
    pub kenya: String,
    pub france: String,
    /// The OPEN cycle on e-Government revision 2, taking comments.
    pub open_cycle: String,
    /// The consolidated SEALED cycle on e-Environment revision 1.
    pub done_cycle: String,
    /// e-Environment revision 2 (no cycle yet).
    pub eenv_rev2: String,
}

pub async fn demo_with(b: Backend, opts: Options) -> Option<Demo> {
    let s = TestServer::start_with(b, opts).await?;
    kitreview::demo::load(&s.state).await.expect("demo");
    let rapporteur = s.login("rapporteur@itu.example", DEMO_PASSWORD).await;
    let q = "{ viewer { rapporteurOf { kits { modules { currentRevision { id } reviewCycles { id status } } } } } }";
    let data = s.ok(Some(&rapporteur), q, json!({})).await;
    let kits = &data["viewer"]["rapporteurOf"][0]["kits"];
    let cycle = |k: usize| {
        kits[k]["modules"][0]["reviewCycles"][0]["id"]
            .as_str()
            .expect("cycle")
            .to_owned()
    };
    Some(Demo {
        kenya: s.login("delegate.kenya@itu.example", DEMO_PASSWORD).await,
        france: s.login("delegate.france@itu.example", DEMO_PASSWORD).await,
        open_cycle: cycle(0),
        done_cycle: cycle(1),
        eenv_rev2: kits[1]["modules"][0]["currentRevision"]["id"]
            .as_str()
            .expect("rev")
            .to_owned(),
        s,
        rapporteur,
    })
}

pub async fn demo(b: Backend) -> Option<Demo> {
    demo_with(b, Options::default()).await
}

impl Demo {
    pub async fn get(&self, token: Option<&str>, path: &str) -> (u16, String, Vec<u8>) {
        let mut req = self.s.http.get(self.s.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, ct, res.bytes().await.expect("body").to_vec())
    }

    pub async fn upload(
        &self,
        token: Option<&str>,
        cycle: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let mut req = self
            .s
            .http
            .post(self.s.url(&format!("/imports/cycles/{cycle}/comments")))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.expect("JSON"))
    }

    pub async fn count(&self, cycle: &str) -> i64 {
        let q = "query($c: ID!) { node(id: $c) { ... on ReviewCycle { comments(first: 1) { totalCount } } } }";
        self.s
            .ok(Some(&self.rapporteur), q, json!({ "c": cycle }))
            .await["node"]["comments"]["totalCount"]
            .as_i64()
            .expect("count")
    }
}

pub fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a BOM first, for Excel");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("record").iter().map(str::to_owned).collect())
        .collect()
}

fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<calamine::Data>> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("xlsx");
    assert_eq!(book.sheet_names(), vec!["Comments".to_owned()]);
    let range = book.worksheet_range_at(0).expect("sheet").expect("range");
    range.rows().map(|r| r.to_vec()).collect()
}

const HEADERS: [&str; 9] = [
    "No.",
    "MB/NC",
    "Clause",
    "Paragraph/Figure/Table",
    "Type of comment",
    "Comment",
    "Proposed change",
    "Disposition",
    "Observations (rationale)",
];

async fn the_consolidated_table_downloads_as_csv_and_xlsx(b: Backend) {
    let Some(d) = demo(b).await else { return };
    let path = format!("/exports/cycles/{}/comments.csv", d.done_cycle);
    let (status, ct, body) = d.get(Some(&d.kenya), &path).await;
    assert_eq!((status, ct.as_str()), (200, "text/csv; charset=utf-8"));
    let rows = csv_rows(&body);
    assert_eq!(rows[0], HEADERS);
    assert_eq!(rows.len(), 8, "the seven comments of the cycle: {rows:?}");
    // Document order: the document-level comment first, then by clause.
    assert_eq!(rows[1][1..5], ["FR", "General", "", "ed"]);
    assert_eq!(rows[1][7], "Noted");
    let clauses: Vec<&str> = rows[1..].iter().map(|r| r[2].as_str()).collect();
    assert_eq!(
        clauses,
        ["General", "1.1", "2.1", "2.2", "3.1", "3.1", "3.1"]
    );
    let kenya_quote = &rows[2];
    assert_eq!(kenya_quote[1], "KE");
    assert_eq!(kenya_quote[3], "Paragraph 2 “EERI”");
    assert_eq!(rows[4][1], "UNEP", "not a member state: its short name");
    assert_eq!(rows[4][7], "Rejected");
    let duplicate = rows
        .iter()
        .find(|r| r[7] == "Duplicate")
        .expect("duplicate row");
    let original = rows
        .iter()
        .find(|r| r[5].starts_with("Remove the illustrative bands"))
        .expect("original");
    assert_eq!(
        duplicate[8],
        format!(
            "Duplicate of comment {}. Same request as Kenya's.",
            original[0]
        )
    );
    assert_eq!(duplicate[1], "EG");
    let scored = rows
        .iter()
        .find(|r| r[5] == "Say who scores the indicators.")
        .expect("scored");
    assert_eq!(
        scored[6],
        "Each indicator is scored on a scale from 0 to 4 by the national assessment team."
    );
    assert_eq!(scored[7], "Accepted in principle");

    let path = format!("/exports/cycles/{}/comments.xlsx", d.done_cycle);
    let (status, ct, body) = d.get(Some(&d.kenya), &path).await;
    assert_eq!(status, 200);
    assert_eq!(
        ct,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let cells = xlsx_rows(&body);
    assert_eq!(cells.len(), 8);
    let text = |r: usize, c: usize| cells[r][c].to_string();
    for (i, h) in HEADERS.iter().enumerate() {
        assert_eq!(text(0, i), *h);
    }
    assert_eq!(
        cells[1][0],
        calamine::Data::Float(rows[1][0].parse().expect("number")),
        "numbers are numbers"
    );
    for (r, row) in rows.iter().enumerate().skip(1) {
        for (c, v) in row.iter().enumerate().skip(1) {
            assert_eq!(&text(r, c), v, "cell ({r}, {c}) matches the CSV");
        }
    }
    // The sheet is laid out for reading: frozen header, wrapped text.
    let sheet = {
        let mut zip = zip::ZipArchive::new(Cursor::new(body)).expect("zip");
        let mut f = zip.by_name("xl/worksheets/sheet1.xml").expect("sheet xml");
        let mut s = String::new();
        std::io::Read::read_to_string(&mut f, &mut s).expect("read");
        s
    };
    assert!(sheet.contains(r#"state="frozen""#), "frozen header");
    assert!(sheet.contains("<col "), "column widths");
}

async fn downloads_follow_the_visibility_rules(b: Backend) {
    let Some(d) = demo(b).await else { return };
    // A SEALED cycle on e-Environment revision 2: Kenya and France comment.
    let now = d.s.clock_now();
    let open =
        "mutation($i: OpenReviewCycleInput!) { openReviewCycle(input: $i) { cycle { id } } }";
    let cycle = d
        .s
        .ok(
            Some(&d.rapporteur),
            open,
            json!({ "i": { "revisionId": d.eenv_rev2, "title": "Revision 2", "opensAt": now.to_rfc3339(), "closesAt": (now + Duration::days(10)).to_rfc3339(), "visibility": "SEALED" } }),
        )
        .await["openReviewCycle"]["cycle"]["id"]
        .as_str()
        .expect("cycle")
        .to_owned();
    let submit =
        "mutation($i: SubmitCommentInput!) { submitComment(input: $i) { comment { id } } }";
    for (who, body) in [
        (&d.kenya, "Kenya's view"),
        (&d.france, "L'avis de la France"),
    ] {
        let c = d
            .s
            .ok(Some(who), submit, json!({ "i": { "cycleId": cycle, "anchor": { "kind": "DOCUMENT" }, "type": "GENERAL", "body": body } }))
            .await["submitComment"]["comment"]["id"]
            .clone();
        let set = "mutation($c: ID!) { setDisposition(input: {commentId: $c, kind: NOTED, rationale: \"Seen\"}) { comment { id } } }";
        d.s.ok(Some(&d.rapporteur), set, json!({ "c": c })).await;
    }
    let path = format!("/exports/cycles/{cycle}/comments.csv");
    let kenya = csv_rows(&d.get(Some(&d.kenya), &path).await.2);
    assert_eq!(kenya.len(), 2, "Kenya sees only its own comment: {kenya:?}");
    assert_eq!(kenya[1][5], "Kenya's view");
    assert_eq!(
        kenya[1][7], "",
        "dispositions are provisional until the close"
    );
    let rapporteur = csv_rows(&d.get(Some(&d.rapporteur), &path).await.2);
    assert_eq!(rapporteur.len(), 3);
    assert!(rapporteur[1..].iter().all(|r| r[7] == "Noted"));
    let xlsx = xlsx_rows(
        &d.get(Some(&d.kenya), &path.replace(".csv", ".xlsx"))
            .await
            .2,
    );
    assert_eq!(xlsx.len(), 2, "the XLSX follows the same rules");
    // After the close everyone sees every comment and its disposition.
    d.s.clock.advance(Duration::days(11));
    let kenya = csv_rows(&d.get(Some(&d.kenya), &path).await.2);
    assert_eq!(kenya.len(), 3);
    assert!(kenya[1..].iter().all(|r| r[7] == "Noted"));

    // Who may download, and what.
    assert_eq!(d.get(None, &path).await.0, 401);
    assert_eq!(d.get(Some("not-a-token"), &path).await.0, 401);
    assert_eq!(
        d.get(
            Some(&d.kenya),
            &format!("/exports/cycles/{cycle}/comments.pdf")
        )
        .await
        .0,
        404
    );
    assert_eq!(
        d.get(
            Some(&d.kenya),
            "/exports/cycles/UmV2aWV3Q3ljbGU6OTk5/comments.csv"
        )
        .await
        .0,
        404
    );
    assert_eq!(
        d.get(
            Some(&d.kenya),
            &format!("/exports/cycles/{}/comments.csv", d.eenv_rev2)
        )
        .await
        .0,
        404,
        "a revision id is not a cycle id"
    );
}

pub const TEMPLATE: &str =
    "\u{feff}MB/NC;Clause;Paragraph/Figure/Table;Type of comment;Comment;Proposed change\r\n\
KE;General;;ge;\"Two lines,\nwith a comma\";\r\n\
KE;2.3;Paragraph 1;te;Name the lead agency.;The lead agency is ...\r\n\
ke;2.3;Table 2;ED;Typo in the table.;\r\n\
;;;;;\r\n";

async fn a_delegation_imports_its_template(b: Backend) {
    let Some(d) = demo(b).await else { return };
    let before = d.count(&d.open_cycle).await;
    let (status, body) = d
        .upload(
            Some(&d.kenya),
            &d.open_cycle,
            "text/csv",
            TEMPLATE.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["imported"], 3);
    let numbers: Vec<i64> = body["comments"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["number"].as_i64().expect("n"))
        .collect();
    assert_eq!(numbers, [4, 5, 6], "numbers follow the cycle's");
    assert_eq!(d.count(&d.open_cycle).await, before + 3);
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Comment { state body typeCode proposedChange organization { shortName } anchor { kind blockAnchorId sectionAnchorId } } } }";
    let ids: Vec<Value> = body["comments"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    let nodes = d.s.ok(Some(&d.kenya), q, json!({ "ids": ids })).await["nodes"].clone();
    assert_eq!(nodes[0]["body"], "Two lines,\nwith a comma");
    assert_eq!(nodes[0]["anchor"]["kind"], "DOCUMENT");
    assert_eq!(nodes[0]["state"], "SUBMITTED");
    assert_eq!(nodes[0]["organization"]["shortName"], "Kenya");
    assert_eq!(
        nodes[1]["anchor"]["kind"], "BLOCK",
        "\"Paragraph 1\" of 2.3 is a block"
    );
    assert_eq!(nodes[1]["typeCode"], "te");
    assert_eq!(nodes[1]["proposedChange"], "The lead agency is ...");
    assert_eq!(
        nodes[2]["anchor"]["kind"], "SECTION",
        "an unknown location stays on the section"
    );
    assert_eq!(
        nodes[2]["body"], "[Table 2] Typo in the table.",
        "and is kept in the text"
    );
    assert_eq!(nodes[2]["typeCode"], "ed");

    // The same template as XLSX, from France.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in [
        "No.",
        "MB/NC",
        "Clause",
        "Type of comment",
        "Comments",
        "Proposed change",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h).expect("cell");
    }
    sheet.write_number(1, 0, 1.0).expect("cell");
    sheet.write_string(1, 1, "FR").expect("cell");
    sheet.write_string(1, 2, "2.3").expect("cell");
    sheet.write_string(1, 3, "te").expect("cell");
    sheet
        .write_string(1, 4, "Préciser le rôle de l'agence « chef de file ».")
        .expect("cell");
    let xlsx = book.save_to_buffer().expect("xlsx");
    let (status, body) = d
        .upload(
            Some(&d.france),
            &d.open_cycle,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            xlsx,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["comments"][0]["number"], 7);
}

async fn bad_uploads_write_nothing(b: Backend) {
    let Some(d) = demo(b).await else { return };
    let before = d.count(&d.open_cycle).await;
    let errors = |body: &Value| -> Vec<(i64, String, String)> {
        body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| {
                assert_eq!(e["extensions"]["code"], "VALIDATION");
                (
                    e["extensions"]["row"].as_i64().expect("row"),
                    e["extensions"]["column"]
                        .as_str()
                        .expect("column")
                        .to_owned(),
                    e["message"].as_str().expect("message").to_owned(),
                )
            })
            .collect()
    };
    let up = |token: &String, text: &str| {
        let body = text.as_bytes().to_vec();
        let token = token.clone();
        let d = &d;
        async move {
            d.upload(Some(&token), &d.open_cycle, "text/csv", body)
                .await
        }
    };

    let (status, body) = up(
        &d.kenya,
        "Clause,Favourite colour,Comment\n2.3,blue,Hello\n",
    )
    .await;
    assert_eq!(status, 422);
    let e = errors(&body);
    assert!(
        e.contains(&(
            1,
            "Favourite colour".into(),
            "'Favourite colour' is not a column of the comments template".into()
        )),
        "{e:?}"
    );
    assert!(
        e.iter().any(|(r, c, _)| *r == 1 && c == "Type of comment"),
        "missing column: {e:?}"
    );

    let rows = "Clause,Type of comment,Comment\n2.3,te,Fine\n9.9,xx,\n2.3,ge,Also fine\n";
    let (status, body) = up(&d.kenya, rows).await;
    assert_eq!(status, 422);
    let e = errors(&body);
    let at: Vec<(i64, &str)> = e.iter().map(|(r, c, _)| (*r, c.as_str())).collect();
    assert_eq!(
        at,
        [(3, "Clause"), (3, "Type of comment"), (3, "Comment")],
        "{e:?}"
    );
    assert!(e[0].2.contains("no clause '9.9'"), "{e:?}");

    let (status, body) = up(
        &d.kenya,
        "MB/NC,Clause,Type of comment,Comment\nFR,2.3,te,Not ours\n",
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(errors(&body)[0].1, "MB/NC");

    for junk in [
        &b"\x00\x01\x02\xff\xfe binary"[..],
        &b"PK\x03\x04 not really a zip"[..],
        &b""[..],
        &b"Clause,Type of comment,Comment\n"[..],
    ] {
        let (status, body) = d
            .upload(
                Some(&d.kenya),
                &d.open_cycle,
                "application/octet-stream",
                junk.to_vec(),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "VALIDATION");
    }
    assert_eq!(d.count(&d.open_cycle).await, before, "nothing was written");

    // Not while the cycle takes no comments; not anonymously.
    let (status, body) = d
        .upload(
            Some(&d.kenya),
            &d.done_cycle,
            "text/csv",
            TEMPLATE.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(
        (status, body["errors"][0]["extensions"]["code"].as_str()),
        (409, Some("CYCLE_CLOSED"))
    );
    let (status, _) = d
        .upload(
            None,
            &d.open_cycle,
            "text/csv",
            TEMPLATE.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(d.count(&d.open_cycle).await, before);
}

async fn uploads_over_the_limit_are_refused(b: Backend) {
    let mut opts = Options::default();
    opts.limits.max_upload_bytes = 1024;
    let Some(d) = demo_with(b, opts).await else {
        return;
    };
    let before = d.count(&d.open_cycle).await;
    let big = format!(
        "Clause,Type of comment,Comment\n2.3,te,{}\n",
        "x".repeat(2000)
    );
    let (status, body) = d
        .upload(Some(&d.kenya), &d.open_cycle, "text/csv", big.into_bytes())
        .await;
    assert_eq!(status, 413);
    assert_eq!(body["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE");
    assert_eq!(d.count(&d.open_cycle).await, before);
    let (status, _) = d
        .upload(
            Some(&d.kenya),
            &d.open_cycle,
            "text/csv",
            TEMPLATE.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 201, "under the limit it goes through");
}

backend_tests!(
    the_consolidated_table_downloads_as_csv_and_xlsx,
    downloads_follow_the_visibility_rules,
    a_delegation_imports_its_template,
    bad_uploads_write_nothing,
    uploads_over_the_limit_are_refused,
);
