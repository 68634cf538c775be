//! The demo province's knowledge base: a few published articles an agent answers calls from,
//! written by the analyst and published by the province's supervisor (a reviewer never publishes
//! what they submitted), so the knowledge pages and the workbench search do not start empty. The
//! figures are the service commitments of domain.md (十项承诺).

use chrono::{DateTime, Utc};
use kefu_domain::auth::Username;
use kefu_domain::knowledge::{ArticleAction, ArticleDraft, ArticleInput};
use kefu_store::{Actor, Store};

/// (title, category code, tags, Markdown body).
const ARTICLES: &[(&str, &str, &[&str], &str)] = &[
    (
        "故障抢修到达现场时限",
        "outage_faq",
        &["故障报修", "抢修", "十项承诺"],
        "客户报修后，抢修人员到达现场的平均时限（24 小时计时）：\n\n\
         - 城区范围 **45 分钟**\n- 农村地区 **90 分钟**\n- 特殊边远地区 **2 小时**\n\n\
         到达后恢复供电的平均时限：城区 3 小时，农村 4 小时。",
    ),
    (
        "欠费停电后的复电时限",
        "tariff",
        &["欠费", "复电", "电费"],
        "客户结清欠费后，供电企业应在 **24 小时内** 恢复供电。\n\n\
         因欠费需停止供电的，应提前 **7 天** 将停电通知书送达客户。",
    ),
    (
        "计划停电的通知要求",
        "outage_faq",
        &["计划停电", "停电通知"],
        "计划检修停电应提前 **7 天** 向社会公告；临时检修需要停电的，应提前 **24 小时** 通知重要客户。\n\n\
         坐席答复时请先按户号查询客户所在线路的停电信息。",
    ),
    (
        "电能表校验与电量异常核实",
        "procedure",
        &["校表", "电能表", "电量异常"],
        "客户对电能表计量有疑问申请校验的，或反映电量、电费异常的，应在 **5 个工作日** 内核实并答复。\n\n\
         受理时记录户号、表号、客户反映的时间段和联系电话。",
    ),
    (
        "投诉的联系与答复时限",
        "policy",
        &["投诉", "时限"],
        "受理客户投诉后 **1 个工作日** 内联系客户，**7 个工作日** 内答复处理结果。\n\n\
         答复须包含处理人、处理时间、处理情况、处理结果和客户意见。",
    ),
];

/// Writes and publishes the demo articles; returns how many.
pub async fn load_articles(store: &dyn Store, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let author = staff_id(store, "analyst1").await?;
    let reviewer = staff_id(store, "supervisor1").await?;
    let actor = Actor::System("demo");
    for (title, category, tags, body) in ARTICLES {
        let draft = ArticleDraft::validate(ArticleInput {
            title: (*title).to_owned(),
            body: (*body).to_owned(),
            category: (*category).to_owned(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            effective_from: None,
            effective_to: None,
        })
        .map_err(|errors| anyhow::anyhow!("demo article '{title}' is invalid: {errors:?}"))?;
        let article = store.create_article(draft, author, &actor, now).await?;
        let article = store
            .article_action(
                article.id,
                article.version,
                ArticleAction::Submit,
                author,
                &actor,
                now,
            )
            .await?;
        store
            .article_action(
                article.id,
                article.version,
                ArticleAction::Publish,
                reviewer,
                &actor,
                now,
            )
            .await?;
    }
    Ok(ARTICLES.len())
}

async fn staff_id(store: &dyn Store, login: &str) -> anyhow::Result<kefu_domain::ids::StaffId> {
    let name = Username::parse(login).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (staff, _) = store
        .get_staff_for_login(&name)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo login {login} is missing"))?;
    Ok(staff.id)
}
