//! Writing HTML text: everything taken from plans, queries, policies and errors goes through
//! [`escape`], in element content and in attribute values alike.

use std::fmt::Write as _;

/// Text safe in element content and in double- or single-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML document being written. `write!` into it never fails (it is a `String`), so the
/// helpers return nothing.
#[derive(Default)]
pub struct Html {
    text: String,
}

impl Html {
    /// Markup written as is: only literals and the output of other [`Html`] helpers.
    pub fn raw(&mut self, markup: &str) {
        self.text.push_str(markup);
    }

    /// Text, escaped.
    pub fn text(&mut self, text: &str) {
        self.text.push_str(&escape(text));
    }

    /// `<tag class="…">text</tag>`, the text escaped.
    pub fn element(&mut self, tag: &str, class: &str, text: &str) {
        if class.is_empty() {
            let _ = write!(self.text, "<{tag}>{}</{tag}>", escape(text));
        } else {
            let _ = write!(
                self.text,
                "<{tag} class=\"{class}\">{}</{tag}>",
                escape(text)
            );
        }
    }

    /// A block of preformatted text (a plan, a query).
    pub fn pre(&mut self, class: &str, text: &str) {
        self.element("pre", class, text.trim_end_matches('\n'));
    }

    pub fn into_string(self) -> String {
        self.text
    }
}

impl std::fmt::Write for Html {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.text.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_both_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }
}
