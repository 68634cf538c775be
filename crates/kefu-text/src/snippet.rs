//! Highlighted excerpts: where a text matched a query, as plain pieces the caller escapes.

use crate::Segmenter;

/// One piece of an excerpt: text, and whether it is a query word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// The text, exactly as in the source.
    pub text: String,
    /// Whether the piece is a word the query asked for.
    pub hit: bool,
}

/// An excerpt of a text with the query's words marked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snippet {
    /// The pieces, in order.
    pub pieces: Vec<Piece>,
    /// Whether text was left out before the excerpt.
    pub cut_before: bool,
    /// Whether text was left out after it.
    pub cut_after: bool,
}

impl Snippet {
    /// Whether any piece is a hit.
    pub fn has_hit(&self) -> bool {
        self.pieces.iter().any(|p| p.hit)
    }

    /// The excerpt as plain text, hits between `open` and `close`.
    pub fn marked(&self, open: &str, close: &str) -> String {
        let mut out = String::new();
        if self.cut_before {
            out.push('…');
        }
        for p in &self.pieces {
            if p.hit {
                out.push_str(open);
                out.push_str(&p.text);
                out.push_str(close);
            } else {
                out.push_str(&p.text);
            }
        }
        if self.cut_after {
            out.push('…');
        }
        out
    }
}

pub(crate) fn build(seg: &Segmenter, text: &str, terms: &[String], max_chars: usize) -> Snippet {
    let chars: Vec<char> = text.chars().collect();
    let max_chars = max_chars.max(1);
    // Overlapping search-mode words (峰谷电价 and 电价) merge into one marked range.
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for (s, e) in seg.hits(text, terms) {
        match ranges.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => ranges.push((s, e)),
        }
    }
    let first = ranges.first().map_or(0, |r| r.0);
    // A little context before the first hit, the rest after it.
    let start = first
        .saturating_sub(max_chars / 4)
        .min(chars.len().saturating_sub(max_chars));
    let end = (start + max_chars).min(chars.len());
    let mut pieces: Vec<Piece> = Vec::new();
    let mut at = start;
    let push = |from: usize, to: usize, hit: bool, pieces: &mut Vec<Piece>| {
        if from < to {
            pieces.push(Piece {
                text: chars[from..to].iter().collect(),
                hit,
            });
        }
    };
    for (s, e) in ranges {
        let (s, e) = (s.max(start), e.min(end));
        if s >= e {
            continue;
        }
        push(at, s, false, &mut pieces);
        push(s, e, true, &mut pieces);
        at = e;
    }
    push(at, end, false, &mut pieces);
    Snippet {
        pieces,
        cut_before: start > 0,
        cut_after: end < chars.len(),
    }
}
