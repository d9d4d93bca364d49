//! A block's Markdown as HTML for the browser workspace: rendered with the
//! parser's own options, then sanitised (no raw HTML, scripts, event handlers
//! or `javascript:` links survive), so it can be placed in a page as it is.

use pulldown_cmark::{html, Options, Parser};

use super::BlockKind;

fn render(markdown: &str) -> String {
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, Parser::new_ext(markdown, opts));
    out
}

fn sanitize(html: &str) -> String {
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .clean(html)
        .to_string()
}

/// A list item's own text: without its marker, and without the nested items
/// that follow it (those are blocks of their own).
fn list_item_body(source: &str) -> String {
    let mut lines = source.lines();
    let first = lines.next().unwrap_or("").trim_start();
    let marker_end = first
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '*' | '+' | '.' | ')')))
        .unwrap_or(first.len());
    let mut body = first[marker_end..].trim_start().to_owned();
    for line in lines {
        let t = line.trim_start();
        let nested = t.starts_with("- ")
            || t.starts_with("* ")
            || t.starts_with("+ ")
            || t.split_once(['.', ')']).is_some_and(|(n, rest)| {
                !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && rest.starts_with(' ')
            });
        if nested {
            break;
        }
        body.push('\n');
        body.push_str(t);
    }
    body
}

/// A table row's cells, each as inline Markdown.
fn table_cells(source: &str) -> Vec<String> {
    let line = source.lines().next().unwrap_or("").trim();
    let line = line.strip_prefix('|').unwrap_or(line);
    let line = line.strip_suffix('|').unwrap_or(line);
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut escaped = false;
    for c in line.chars() {
        match c {
            '|' if !escaped => cells.push(std::mem::take(&mut cell)),
            '\\' if !escaped => {
                escaped = true;
                cell.push(c);
                continue;
            }
            _ => cell.push(c),
        }
        escaped = false;
    }
    cells.push(cell);
    cells.into_iter().map(|c| c.trim().to_owned()).collect()
}

/// Strip one `<p>…</p>` wrapper (inline content of a cell or an item).
fn inline(html: &str) -> &str {
    let t = html.trim();
    match t.strip_prefix("<p>").and_then(|r| r.strip_suffix("</p>")) {
        Some(inner) if !inner.contains("<p>") => inner,
        _ => t,
    }
}

/// The sanitised HTML of one block from its Markdown source. Paragraphs,
/// quotes and code come as their element (`<p>`, `<blockquote>`, `<pre>`); a
/// list item as the content of its `<li>`; a table row as its `<td>` cells.
pub fn block_html(kind: BlockKind, source: &str) -> String {
    match kind {
        BlockKind::Paragraph | BlockKind::BlockQuote | BlockKind::CodeBlock => {
            sanitize(&render(source))
        }
        BlockKind::ListItem => sanitize(inline(&render(&list_item_body(source)))),
        // Each cell is sanitised on its own (a `<td>` outside a table would
        // be dropped by the HTML parser), then wrapped in our own markup.
        BlockKind::TableRow => table_cells(source)
            .iter()
            .map(|c| format!("<td>{}</td>", sanitize(inline(&render(c)))))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_and_scripts_do_not_survive() {
        let h = block_html(
            BlockKind::Paragraph,
            "Hello <script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3)) **bold**",
        );
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("onerror"), "{h}");
        assert!(!h.contains("javascript:"), "{h}");
        assert!(h.contains("<strong>bold</strong>"), "{h}");
    }

    #[test]
    fn list_items_lose_their_marker_and_nested_items() {
        let h = block_html(BlockKind::ListItem, "- first *item*\n  - nested");
        assert_eq!(h, "first <em>item</em>");
        let h = block_html(BlockKind::ListItem, "12. numbered");
        assert_eq!(h, "numbered");
    }

    #[test]
    fn table_rows_become_cells() {
        let h = block_html(BlockKind::TableRow, "| a | **b** | c \\| d |");
        assert_eq!(h, "<td>a</td><td><strong>b</strong></td><td>c | d</td>");
    }

    #[test]
    fn code_is_escaped() {
        let h = block_html(BlockKind::CodeBlock, "```\n<b>x</b>\n```");
        assert!(h.contains("&lt;b&gt;"), "{h}");
    }
}
