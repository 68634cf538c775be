//! Major appeals (重大诉求, seed 003): flagged by editable rules over the sub-category and the
//! text, or by hand with a reason. The rules are data so a province can add its own keywords.

use super::catalogue::{Gravity, SubCategory, SubCategoryCode};
use crate::FieldError;

/// The most keywords a rule set may hold (each one is a substring scan of every intake).
pub const MAX_MAJOR_KEYWORDS: usize = 200;
/// The longest keyword.
pub const MAX_KEYWORD_LEN: usize = 20;
/// The longest reason given when flagging by hand.
pub const MAX_MAJOR_REASON_LEN: usize = 500;

/// The keywords of domain.md "Major appeals" plus close variants; administrators edit the list.
pub const DEFAULT_MAJOR_KEYWORDS: &[&str] = &[
    "触电",
    "电死",
    "电伤",
    "身亡",
    "死亡",
    "记者",
    "媒体",
    "电视台",
    "报社",
    "曝光",
    "上访",
    "偷电",
    "偷盗",
    "倒卖",
    "贿赂",
    "受贿",
    "索贿",
    "红包",
    "回扣",
    "纪委",
    "火灾",
    "爆炸",
    "群体",
];

/// Editable rules that make an appeal major, on top of the catalogue's always-major entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MajorRules {
    /// Text fragments; an appeal whose content contains one is major (case-insensitive for ASCII).
    pub keywords: Vec<String>,
    /// Extra sub-categories whose appeals are always major.
    pub sub_categories: Vec<SubCategoryCode>,
}

impl MajorRules {
    /// Validates a rule set: 1–20-character keywords, no duplicates, at most 200 of them.
    pub fn new(
        keywords: Vec<String>,
        sub_categories: Vec<SubCategoryCode>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if keywords.len() > MAX_MAJOR_KEYWORDS {
            errors.push(FieldError::new(
                "keywords",
                format!("keep at most {MAX_MAJOR_KEYWORDS} keywords"),
            ));
        }
        let keywords: Vec<String> = keywords.iter().map(|k| k.trim().to_owned()).collect();
        for (i, k) in keywords.iter().enumerate() {
            let n = k.chars().count();
            if n == 0 || n > MAX_KEYWORD_LEN {
                errors.push(FieldError::new(
                    format!("keywords[{i}]"),
                    format!("give a keyword of 1 to {MAX_KEYWORD_LEN} characters"),
                ));
            } else if keywords[..i].contains(k) {
                errors.push(FieldError::new(
                    format!("keywords[{i}]"),
                    format!("'{k}' is listed twice"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Self {
                keywords,
                sub_categories,
            })
        } else {
            Err(errors)
        }
    }

    /// The out-of-the-box rules: the default keywords and no extra sub-categories.
    pub fn defaults() -> Self {
        Self {
            keywords: DEFAULT_MAJOR_KEYWORDS
                .iter()
                .map(|k| (*k).to_owned())
                .collect(),
            sub_categories: Vec::new(),
        }
    }
}

/// Why an order is major; shown on the supervisors' board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MajorReason {
    /// The sub-category is major by itself (catalogue or rules).
    SubCategory(SubCategoryCode),
    /// The appeal's text contains this keyword.
    Keyword(String),
    /// A person flagged it (the event names who), with a reason.
    Manual(String),
}

/// Whether an appeal is major by its sub-category or its text, and which rule matched first.
pub fn assess_major(
    rules: &MajorRules,
    sub_category: &SubCategory,
    text: &str,
) -> Option<MajorReason> {
    if sub_category.gravity == Gravity::AlwaysMajor
        || rules.sub_categories.contains(&sub_category.code)
    {
        return Some(MajorReason::SubCategory(sub_category.code.clone()));
    }
    let lowered = text.to_lowercase();
    rules
        .keywords
        .iter()
        .find(|k| !k.is_empty() && lowered.contains(&k.to_lowercase()))
        .map(|k| MajorReason::Keyword(k.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workorder::catalogue::Catalogue;

    fn sub(code: &str) -> SubCategory {
        let cat = Catalogue::defaults();
        let found = cat.lookup("sub_category", code).cloned();
        found.unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_keyword_in_the_text_makes_the_appeal_major() {
        let r = assess_major(
            &MajorRules::defaults(),
            &sub("complaint.outage"),
            "停电三天了，再不来修我就找记者曝光",
        );
        assert_eq!(r, Some(MajorReason::Keyword("记者".into())));
    }

    #[test]
    fn an_always_major_sub_category_needs_no_keyword() {
        let r = assess_major(
            &MajorRules::defaults(),
            &sub("fault_repair.electric_shock"),
            "",
        );
        assert!(matches!(r, Some(MajorReason::SubCategory(_))));
    }

    #[test]
    fn ordinary_text_is_not_major_and_extra_categories_count() {
        let outage = sub("complaint.outage");
        assert_eq!(
            assess_major(&MajorRules::defaults(), &outage, "停电了"),
            None
        );
        let mut rules = MajorRules::defaults();
        rules.sub_categories.push(outage.code.clone());
        assert!(assess_major(&rules, &outage, "停电了").is_some());
    }

    #[test]
    fn ascii_keywords_match_in_any_case_and_bad_rules_are_named() {
        let rules = MajorRules::new(vec!["CCTV".into()], vec![]);
        let rules = rules.unwrap_or_else(|e| panic!("{e:?}"));
        assert!(assess_major(&rules, &sub("complaint.outage"), "找cctv").is_some());
        let bad = MajorRules::new(vec!["媒体".into(), " ".into(), "媒体".into()], vec![]);
        let fields: Vec<_> = bad
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["keywords[1]", "keywords[2]"]);
    }
}
