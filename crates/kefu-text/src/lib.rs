//! Chinese text segmentation for kefu's full-text search (issue 7): text in, terms out.
//!
//! Both stores index *terms*, not bytes: the jieba segmenter (its dictionary ships inside the
//! crate) cuts a text into words, each word is normalised (full-width letters and digits folded
//! to ASCII, ASCII lower-cased, punctuation dropped, a few particles skipped) and the index gets
//! the words separated by spaces (SQLite FTS5 `unicode61`, PostgreSQL `to_tsvector('simple')`).
//! A query is cut the same way and every query term must match a whole indexed term, so `电`
//! finds texts where 电 stands as a word and not every 电费 or 停电. Numbers and Latin words
//! (account numbers, order numbers, phone fragments, `GD…`) stay whole terms.
//!
//! Documents are cut in search mode (`cut_for_search`: a long word also yields the dictionary
//! words inside it, so 峰谷电价 is found by 电价) and also give every other dictionary word of
//! two or more characters they hold (the cut depends on context); queries are cut in plain mode
//! (the longest words). Both without the HMM, so that an unknown word is cut the same way in a
//! text and a query.
//!
//! The standard segmenter (jieba's dictionary plus [`DOMAIN_WORDS`]) is built once, lazily;
//! one with an administrator's user dictionary is built from it by [`Segmenter::with_words`].

mod snippet;

use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use jieba_rs::Jieba;

pub use snippet::{Piece, Snippet};

/// Words of the power-supply business that jieba's general dictionary cuts apart; every
/// segmenter knows them, an administrator's user dictionary adds more.
pub const DOMAIN_WORDS: &[&str] = &[
    "户号",
    "户名",
    "电费",
    "电价",
    "欠费",
    "缴费",
    "停电",
    "复电",
    "送电",
    "抄表",
    "电表",
    "电能表",
    "表计",
    "业扩",
    "报装",
    "业扩报装",
    "增容",
    "减容",
    "过户",
    "销户",
    "自备变",
    "专变",
    "公变",
    "台区",
    "电压低",
    "低电压",
    "频繁停电",
    "阶梯电价",
    "分时电价",
    "故障报修",
    "抢修",
    "供电所",
    "光伏",
    "并网",
    "充电桩",
    "工单",
    "催办",
    "督办",
];

/// The longest word accepted into a user dictionary, in characters.
pub const MAX_WORD_CHARS: usize = 20;
/// The most words a user dictionary holds.
pub const MAX_USER_WORDS: usize = 5000;
/// The most terms a query keeps (the rest are ignored, so a pasted page cannot cost a scan per
/// word).
pub const MAX_QUERY_TERMS: usize = 16;

/// The prefixes of reserved terms: terms the stores add to an order's index row themselves
/// (`kfu…` its holding unit's path, `kfp…` / `kft…` its caller's phone), so that a search can
/// narrow by scope or phone inside the full-text index. Followed by a digit they are never a
/// term of a text or a query: [`is_reserved_term`] drops them, so nobody can type or write
/// their way into another unit's scope or forge a phone match.
pub const RESERVED_PREFIXES: [&str; 3] = ["kfu", "kfp", "kft"];

/// Whether `term` (already folded) has the form of a reserved term: a reserved prefix followed
/// by an ASCII digit.
pub fn is_reserved_term(term: &str) -> bool {
    RESERVED_PREFIXES.iter().any(|p| {
        term.strip_prefix(p)
            .is_some_and(|rest| rest.as_bytes().first().is_some_and(u8::is_ascii_digit))
    })
}

/// Particles that carry no meaning for search; leaving them out keeps the index small.
const STOP_WORDS: &[&str] = &[
    "的", "了", "是", "在", "和", "与", "及", "或", "吗", "呢", "吧", "啊", "呀", "也", "都", "就",
    "而", "着", "过", "把", "被", "之", "其",
];

/// A segmenter: jieba with the domain words and, optionally, an administrator's user words.
#[derive(Clone)]
pub struct Segmenter {
    jieba: Jieba,
    user_words: Vec<String>,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter")
            .field("user_words", &self.user_words.len())
            .finish_non_exhaustive()
    }
}

/// Why a user dictionary was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WordError {
    /// A word is empty, too long, or holds characters that are not letters or digits.
    #[error(
        "'{word}' is not a word: use 1 to {MAX_WORD_CHARS} letters or digits, no spaces or \
         punctuation"
    )]
    NotAWord {
        /// The word as given.
        word: String,
    },
    /// Too many words.
    #[error("a user dictionary holds at most {MAX_USER_WORDS} words; remove some")]
    TooMany,
}

/// Checks a user dictionary: trims each word, drops repeats (first kept), and refuses words
/// that are empty, longer than [`MAX_WORD_CHARS`] or hold anything but letters and digits.
/// Returns every bad word's error, with its position.
pub fn check_words(words: &[String]) -> Result<Vec<String>, Vec<(usize, WordError)>> {
    if words.len() > MAX_USER_WORDS {
        return Err(vec![(MAX_USER_WORDS, WordError::TooMany)]);
    }
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut errors = Vec::new();
    for (i, raw) in words.iter().enumerate() {
        let word: String = raw.trim().chars().map(fold_char).collect();
        let n = word.chars().count();
        if n == 0 || n > MAX_WORD_CHARS || !word.chars().all(char::is_alphanumeric) {
            errors.push((
                i,
                WordError::NotAWord {
                    word: raw.trim().to_owned(),
                },
            ));
        } else if !out.contains(&word) {
            out.push(word);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn base() -> &'static Jieba {
    static BASE: OnceLock<Jieba> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut jieba = Jieba::new();
        for word in DOMAIN_WORDS {
            add(&mut jieba, word);
        }
        jieba
    })
}

/// Adds `word` so that it is kept whole: at least the frequency jieba would need to prefer it
/// over its parts.
fn add(jieba: &mut Jieba, word: &str) {
    let freq = jieba.suggest_freq(word);
    jieba.add_word(word, Some(freq.max(10)), None);
}

impl Segmenter {
    /// The standard segmenter (jieba's dictionary + [`DOMAIN_WORDS`]), built on first use.
    pub fn standard() -> Arc<Segmenter> {
        static STANDARD: OnceLock<Arc<Segmenter>> = OnceLock::new();
        STANDARD
            .get_or_init(|| {
                Arc::new(Segmenter {
                    jieba: base().clone(),
                    user_words: Vec::new(),
                })
            })
            .clone()
    }

    /// The standard segmenter plus `words` (checked with [`check_words`] first).
    pub fn with_words(words: &[String]) -> Segmenter {
        let mut jieba = base().clone();
        for word in words {
            add(&mut jieba, &word.to_lowercase());
        }
        Segmenter {
            jieba,
            user_words: words.to_vec(),
        }
    }

    /// The user words this segmenter was built with.
    pub fn user_words(&self) -> &[String] {
        &self.user_words
    }

    /// The terms a text is indexed under, in order (search mode: a long word also gives the
    /// words inside it; repeats kept, so the index can rank by frequency).
    pub fn index_terms(&self, text: &str) -> Vec<String> {
        let folded = fold(text);
        self.index_tokens(&folded)
            .into_iter()
            .flat_map(|(_, _, word)| terms_of(word))
            .collect()
    }

    /// The words a text is indexed under, as (start, end, word) in chars: the search-mode cut,
    /// plus every other dictionary word of two or more characters the text holds. The cut
    /// alone depends on the context (小区路灯不亮 cuts as 小区 / 路 / 灯不亮), so a query for
    /// 路灯 would miss it; the extra dictionary words restore that recall without ever adding
    /// single characters (电 inside 电费 stays unindexed).
    fn index_tokens<'a>(&self, folded: &'a str) -> Vec<(usize, usize, &'a str)> {
        let mut tokens: Vec<(usize, usize, &'a str)> = self
            .jieba
            .cut_for_search(folded, false)
            .into_iter()
            .map(|t| (t.start, t.end, t.word))
            .collect();
        let mut seen: std::collections::HashSet<(usize, usize)> =
            tokens.iter().map(|t| (t.0, t.1)).collect();
        for t in self.jieba.cut_all(folded) {
            if t.end - t.start >= 2 && seen.insert((t.start, t.end)) {
                tokens.push((t.start, t.end, t.word));
            }
        }
        tokens
    }

    /// The text an index stores for `text`: its terms separated by single spaces.
    pub fn index_text(&self, text: &str) -> String {
        self.index_terms(text).join(" ")
    }

    /// The terms of a query, each to match a whole indexed term: the longest words, repeats and
    /// particles dropped, at most [`MAX_QUERY_TERMS`].
    pub fn query_terms(&self, query: &str) -> Vec<String> {
        let folded = fold(query);
        let mut out: Vec<String> = Vec::new();
        for token in self.jieba.cut(&folded, false) {
            for term in terms_of(token.word) {
                if !out.contains(&term) && out.len() < MAX_QUERY_TERMS {
                    out.push(term);
                }
            }
        }
        out
    }

    /// An excerpt of `text` of about `max_chars` characters around the first place a query
    /// term stands as a word, with every such word marked.
    pub fn snippet(&self, text: &str, terms: &[String], max_chars: usize) -> Snippet {
        snippet::build(self, text, terms, max_chars)
    }

    /// The char ranges of `text` (in chars) whose words are among `terms`.
    fn hits(&self, text: &str, terms: &[String]) -> Vec<(usize, usize)> {
        let folded = fold(text);
        let mut hits: Vec<(usize, usize)> = self
            .index_tokens(&folded)
            .into_iter()
            .filter(|t| terms_of(t.2).iter().any(|w| terms.contains(w)))
            .map(|t| (t.0, t.1))
            .collect();
        hits.sort_unstable();
        hits
    }
}

/// The segmenter a store uses, replaced when the user dictionary changes.
#[derive(Debug, Default)]
pub struct SharedSegmenter {
    custom: RwLock<Option<Arc<Segmenter>>>,
}

impl SharedSegmenter {
    /// The segmenter in use: the last one installed, else the standard one.
    pub fn current(&self) -> Arc<Segmenter> {
        let custom = self.custom.read().unwrap_or_else(PoisonError::into_inner);
        match &*custom {
            Some(s) => s.clone(),
            None => Segmenter::standard(),
        }
    }

    /// Uses `words` as the user dictionary from now on (an empty list: the standard segmenter).
    pub fn install(&self, words: &[String]) {
        let next = if words.is_empty() {
            None
        } else {
            Some(Arc::new(Segmenter::with_words(words)))
        };
        let mut custom = self.custom.write().unwrap_or_else(PoisonError::into_inner);
        *custom = next;
    }
}

/// Folds one character the way the index sees it: full-width ASCII to ASCII, the ideographic
/// space to a space, ASCII lower-cased. Always one char for one char, so positions carry over.
fn fold_char(c: char) -> char {
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        other => other,
    };
    c.to_ascii_lowercase()
}

fn fold(text: &str) -> String {
    text.chars().map(fold_char).collect()
}

/// The index terms of one segmenter token: its runs of letters and digits (`1.5` gives `1` and
/// `5`), particles and reserved forms ([`is_reserved_term`]) dropped.
fn terms_of(word: &str) -> Vec<String> {
    word.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w) && !is_reserved_term(w))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests;
