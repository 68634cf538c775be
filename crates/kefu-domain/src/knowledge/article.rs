//! An article's content as written: checked once, valid by construction.

use chrono::NaiveDate;

use super::ArticleCategory;
use crate::FieldError;

/// The longest title.
pub const MAX_TITLE_CHARS: usize = 100;
/// The longest body (Markdown).
pub const MAX_BODY_CHARS: usize = 20_000;
/// The most tags.
pub const MAX_TAGS: usize = 10;
/// The longest tag.
pub const MAX_TAG_CHARS: usize = 20;

/// A tag: 1–20 characters, no commas or line breaks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    /// Parses a tag, trimmed.
    pub fn parse(field: &str, raw: &str) -> Result<Tag, FieldError> {
        let t = raw.trim();
        let n = t.chars().count();
        if n == 0 || n > MAX_TAG_CHARS || t.contains([',', '，', '\n', '\r']) {
            return Err(FieldError::new(
                field,
                format!("a tag has 1 to {MAX_TAG_CHARS} characters and no commas"),
            ));
        }
        Ok(Tag(t.to_owned()))
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// When an article is in force: from and to (both inclusive; open when absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Validity {
    /// First day in force.
    pub from: Option<NaiveDate>,
    /// Last day in force.
    pub to: Option<NaiveDate>,
}

impl Validity {
    /// Whether `day` lies within the period.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|f| f <= day) && self.to.is_none_or(|t| day <= t)
    }
}

/// What an editor submits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleInput {
    /// Title.
    pub title: String,
    /// Body in Markdown.
    pub body: String,
    /// Category code.
    pub category: String,
    /// Tags.
    pub tags: Vec<String>,
    /// First day in force.
    pub effective_from: Option<NaiveDate>,
    /// Last day in force.
    pub effective_to: Option<NaiveDate>,
}

/// A valid article content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleDraft {
    /// Title (1–100 characters).
    pub title: String,
    /// Body in Markdown (1–20 000 characters).
    pub body: String,
    /// Category.
    pub category: ArticleCategory,
    /// Tags, without repeats, in the order given.
    pub tags: Vec<Tag>,
    /// When it is in force.
    pub validity: Validity,
}

impl ArticleDraft {
    /// Checks an article, naming every bad field at once.
    pub fn validate(input: ArticleInput) -> Result<ArticleDraft, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = input.title.trim().to_owned();
        let n = title.chars().count();
        if n == 0 || n > MAX_TITLE_CHARS {
            errors.push(FieldError::new(
                "title",
                format!("give a title of 1 to {MAX_TITLE_CHARS} characters"),
            ));
        }
        let body = input.body.trim().to_owned();
        let n = body.chars().count();
        if n == 0 || n > MAX_BODY_CHARS {
            errors.push(FieldError::new(
                "body",
                format!("write the answer, 1 to {MAX_BODY_CHARS} characters"),
            ));
        }
        let category = ArticleCategory::parse_code("category", input.category.trim())
            .map_err(|e| errors.push(e))
            .ok();
        if input.tags.len() > MAX_TAGS {
            errors.push(FieldError::new(
                "tags",
                format!("give at most {MAX_TAGS} tags"),
            ));
        }
        let mut tags: Vec<Tag> = Vec::new();
        for (i, raw) in input.tags.iter().enumerate() {
            match Tag::parse(&format!("tags[{i}]"), raw) {
                Ok(t) if !tags.contains(&t) => tags.push(t),
                Ok(_) => {}
                Err(e) => errors.push(e),
            }
        }
        if let (Some(f), Some(t)) = (input.effective_from, input.effective_to)
            && t < f
        {
            errors.push(FieldError::new(
                "effective_to",
                "the last day in force comes before the first; swap them",
            ));
        }
        match category {
            Some(category) if errors.is_empty() => Ok(ArticleDraft {
                title,
                body,
                category,
                tags,
                validity: Validity {
                    from: input.effective_from,
                    to: input.effective_to,
                },
            }),
            _ => Err(errors),
        }
    }
}

/// How agents cite an article: `KB-123`.
pub fn article_code(id: i64) -> String {
    format!("KB-{id}")
}

/// The article id of `KB-123` (or a bare `123`), if it is one.
pub fn parse_article_code(raw: &str) -> Option<i64> {
    let t = raw.trim();
    let digits = t
        .strip_prefix("KB-")
        .or_else(|| t.strip_prefix("kb-"))
        .unwrap_or(t);
    digits.parse::<i64>().ok().filter(|id| *id > 0)
}
