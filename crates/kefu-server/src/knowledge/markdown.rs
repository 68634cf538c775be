//! Markdown to HTML for article bodies, safely: raw HTML in the source is shown as text, and
//! links or images may only point to http(s), mailto or relative addresses.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    match lower.split_once(':') {
        // A colon before any slash, query or fragment is a scheme.
        Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => {
            matches!(scheme, "http" | "https" | "mailto")
        }
        _ => true,
    }
}

fn neutral<'a>(url: CowStr<'a>) -> CowStr<'a> {
    if safe_url(&url) {
        url
    } else {
        CowStr::from("#")
    }
}

/// The body rendered as HTML that can be put into a page as it is.
pub fn render(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: neutral(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: neutral(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_renders_and_raw_html_is_escaped() {
        let html = render("## 时段\n\n**峰**时 <script>alert(1)</script>\n\n<img src=x onerror=y>");
        assert!(html.contains("<h2>时段</h2>"), "{html}");
        assert!(html.contains("<strong>峰</strong>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn only_safe_link_targets_survive() {
        let html = render("[a](javascript:alert(1)) [b](https://95598.cn) [c](/ui/knowledge/2)");
        assert!(!html.contains("javascript"), "{html}");
        assert!(html.contains("href=\"https://95598.cn\""), "{html}");
        assert!(html.contains("href=\"/ui/knowledge/2\""), "{html}");
    }
}
