//! The knowledge base (知识库, product §9, issue 7): articles agents answer consultations with —
//! policies, tariffs, procedures, outage FAQs — written by editors, checked by a reviewer other
//! than the one who submitted them, and shown to agents only while published and in force.
//!
//! Workflow (`transition`, an exhaustive match):
//!
//! | state      | action  | next       | permission         |
//! |------------|---------|------------|--------------------|
//! | draft      | submit  | in_review  | `knowledge.edit`   |
//! | in_review  | publish | published  | `knowledge.review` |
//! | in_review  | reject  | draft      | `knowledge.review` |
//! | published  | archive | archived   | `knowledge.review` |
//! | published  | revise  | draft      | `knowledge.edit`   |
//! | archived   | revise  | draft      | `knowledge.edit`   |
//!
//! Only a draft's text may change. A reviewer may not publish or reject what they submitted
//! themselves (four eyes).

mod article;

pub use article::{
    ArticleDraft, ArticleInput, MAX_BODY_CHARS, MAX_TAG_CHARS, MAX_TAGS, MAX_TITLE_CHARS, Tag,
    Validity, article_code, parse_article_code,
};

use crate::auth::Permission;
use crate::code_enum;
use crate::ids::StaffId;

code_enum! {
    /// Where an article stands in its workflow.
    pub enum ArticleState {
        /// 草稿: being written; only drafts are edited.
        Draft = ("draft", "草稿", "Draft"),
        /// 待审核: submitted, waiting for a reviewer.
        InReview = ("in_review", "待审核", "In review"),
        /// 已发布: agents see it while it is in force.
        Published = ("published", "已发布", "Published"),
        /// 已归档: withdrawn; kept with its history.
        Archived = ("archived", "已归档", "Archived"),
    }
}

code_enum! {
    /// What an article is about.
    pub enum ArticleCategory {
        /// 政策法规.
        Policy = ("policy", "政策法规", "Policies"),
        /// 电价电费.
        Tariff = ("tariff", "电价电费", "Tariffs"),
        /// 业务办理.
        Procedure = ("procedure", "业务办理", "Procedures"),
        /// 停电问答.
        OutageFaq = ("outage_faq", "停电问答", "Outage FAQ"),
        /// 其他.
        Other = ("other", "其他", "Other"),
    }
}

code_enum! {
    /// A step of the workflow.
    pub enum ArticleAction {
        /// 提交审核.
        Submit = ("submit", "提交审核", "Submit for review"),
        /// 发布.
        Publish = ("publish", "发布", "Publish"),
        /// 退回修改.
        Reject = ("reject", "退回修改", "Send back"),
        /// 归档.
        Archive = ("archive", "归档", "Archive"),
        /// 重新编辑: back to draft (a published one is withdrawn until published again).
        Revise = ("revise", "重新编辑", "Revise"),
    }
}

/// Why a workflow step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KnowledgeError {
    /// The action does not apply in this state.
    #[error(
        "an article that is {state} cannot be {action}ed; allowed: {}",
        list(allowed)
    )]
    IllegalTransition {
        /// The current state.
        state: ArticleState,
        /// What was asked.
        action: ArticleAction,
        /// What the state allows.
        allowed: Vec<ArticleAction>,
    },
    /// The reviewer submitted the article themselves.
    #[error("you submitted this article yourself; another reviewer must {action} it")]
    OwnSubmission {
        /// What was asked.
        action: ArticleAction,
    },
    /// Only drafts are edited.
    #[error("an article that is {state} cannot be edited; revise it back to a draft first")]
    NotADraft {
        /// The current state.
        state: ArticleState,
    },
}

fn list(actions: &[ArticleAction]) -> String {
    if actions.is_empty() {
        return "none".to_owned();
    }
    actions
        .iter()
        .map(|a| a.code())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The actions a state allows.
pub fn allowed_actions(state: ArticleState) -> &'static [ArticleAction] {
    use ArticleAction as A;
    match state {
        ArticleState::Draft => &[A::Submit],
        ArticleState::InReview => &[A::Publish, A::Reject],
        ArticleState::Published => &[A::Archive, A::Revise],
        ArticleState::Archived => &[A::Revise],
    }
}

/// The permission an action needs.
pub fn permission_for(action: ArticleAction) -> Permission {
    match action {
        ArticleAction::Submit | ArticleAction::Revise => Permission::KnowledgeEdit,
        ArticleAction::Publish | ArticleAction::Reject | ArticleAction::Archive => {
            Permission::KnowledgeReview
        }
    }
}

/// The state after `action` by `actor` on an article in `state` that `submitted_by` submitted
/// (when in review).
pub fn transition(
    state: ArticleState,
    action: ArticleAction,
    actor: StaffId,
    submitted_by: Option<StaffId>,
) -> Result<ArticleState, KnowledgeError> {
    use ArticleAction as A;
    use ArticleState as S;
    let next = match (state, action) {
        (S::Draft, A::Submit) => S::InReview,
        (S::InReview, A::Publish) => S::Published,
        (S::InReview, A::Reject) => S::Draft,
        (S::Published, A::Archive) => S::Archived,
        (S::Published | S::Archived, A::Revise) => S::Draft,
        (S::Draft, A::Publish | A::Reject | A::Archive | A::Revise)
        | (S::InReview, A::Submit | A::Archive | A::Revise)
        | (S::Published, A::Submit | A::Publish | A::Reject)
        | (S::Archived, A::Submit | A::Publish | A::Reject | A::Archive) => {
            return Err(KnowledgeError::IllegalTransition {
                state,
                action,
                allowed: allowed_actions(state).to_vec(),
            });
        }
    };
    if matches!(action, A::Publish | A::Reject) && submitted_by == Some(actor) {
        return Err(KnowledgeError::OwnSubmission { action });
    }
    Ok(next)
}

/// Whether an article's text may be edited in `state`.
pub fn check_editable(state: ArticleState) -> Result<(), KnowledgeError> {
    match state {
        ArticleState::Draft => Ok(()),
        ArticleState::InReview | ArticleState::Published | ArticleState::Archived => {
            Err(KnowledgeError::NotADraft { state })
        }
    }
}

#[cfg(test)]
mod tests;
