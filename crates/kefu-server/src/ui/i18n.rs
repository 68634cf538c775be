//! The browser UI's words, zh-CN first and English second. Every visible string of a page comes
//! from one of these two tables, so a missing translation is a compile error, not a blank.

use axum::http::request::Parts;

use crate::auth::cookie_value;

/// The cookie that remembers a person's language choice.
pub const LANG_COOKIE: &str = "kefu_lang";

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 简体中文 (the default).
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The language of a request: the cookie, else `Accept-Language`, else Chinese.
    pub fn of(parts: &Parts) -> Lang {
        match cookie_value(parts, LANG_COOKIE) {
            Some("en") => return Lang::En,
            Some("zh") => return Lang::Zh,
            _ => {}
        }
        let accept = parts
            .headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let first = accept
            .split(',')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if first.starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }

    /// The `lang` attribute of the page.
    pub fn html_code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The cookie value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The other language (for the switch in the top bar).
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// This language's words.
    pub fn t(self) -> &'static Text {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    /// A label from a domain vocabulary in this language.
    pub fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// Every string the pages show.
#[derive(Debug)]
pub struct Text {
    pub product: &'static str,
    pub centre: &'static str,
    pub switch_to: &'static str,
    pub login_title: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub login_failed: &'static str,
    pub rate_limited: &'static str,
    pub demo_hint: &'static str,
    pub workbench: &'static str,
    pub change_password: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub repeat_password: &'static str,
    pub password_rule: &'static str,
    pub passwords_differ: &'static str,
    pub password_changed: &'static str,
    pub wrong_current_password: &'static str,
    pub save: &'static str,
    pub search_title: &'static str,
    pub by_phone: &'static str,
    pub by_account: &'static str,
    pub by_id_number: &'static str,
    pub by_name: &'static str,
    pub search: &'static str,
    pub search_hint: &'static str,
    pub results: &'static str,
    pub no_results: &'static str,
    pub next_page: &'static str,
    pub account_number: &'static str,
    pub customer_name: &'static str,
    pub id_number: &'static str,
    pub id_kind: &'static str,
    pub phones: &'static str,
    pub address: &'static str,
    pub supply_unit: &'static str,
    pub grid: &'static str,
    pub usage_category: &'static str,
    pub voltage: &'static str,
    pub contract_capacity: &'static str,
    pub industry: &'static str,
    pub business_format: &'static str,
    pub scale: &'static str,
    pub value_tier: &'static str,
    pub service_grade: &'static str,
    pub tags: &'static str,
    pub special_dates: &'static str,
    pub status: &'static str,
    pub retired_reason: &'static str,
    pub masked_note: &'static str,
    pub upcoming_dates: &'static str,
    pub no_upcoming_dates: &'static str,
    pub on_day: &'static str,
    pub profile: &'static str,
    pub history: &'static str,
    pub when: &'static str,
    pub who: &'static str,
    pub what: &'static str,
    pub field: &'static str,
    pub old_value: &'static str,
    pub new_value: &'static str,
    pub back: &'static str,
    pub not_found: &'static str,
    pub invalid_input: &'static str,
    pub forbidden: &'static str,
    pub error: &'static str,
    pub kind_created: &'static str,
    pub kind_updated: &'static str,
    pub kind_retired: &'static str,
    pub kind_reinstated: &'static str,
    pub none: &'static str,
    pub fulltext_title: &'static str,
    pub fulltext_orders: &'static str,
    pub fulltext_knowledge: &'static str,
}

static ZH: Text = Text {
    product: "kefu 客服",
    centre: "95598 供电服务中心",
    switch_to: "English",
    login_title: "登录",
    username: "登录名",
    password: "密码",
    sign_in: "登录",
    sign_out: "退出",
    login_failed: "登录名或密码错误。",
    rate_limited: "失败次数过多，请稍后再试（秒）：",
    demo_hint: "演示环境：账号 agent1、dispatcher1、supervisor.hz、analyst1、admin 等，密码均为 Kefu-demo-2026。",
    workbench: "坐席工作台",
    change_password: "修改密码",
    current_password: "当前密码",
    new_password: "新密码",
    repeat_password: "再次输入新密码",
    password_rule: "10–128 个字符，至少包含一个字母和一个数字，且不能包含登录名。",
    passwords_differ: "两次输入的新密码不一致。",
    password_changed: "密码已修改，其他浏览器上的登录已全部退出。",
    wrong_current_password: "当前密码不正确。",
    save: "保存",
    search_title: "客户查询",
    by_phone: "来电号码",
    by_account: "户号",
    by_id_number: "证件号码",
    by_name: "户名（前缀）",
    search: "查询",
    search_hint: "输入来电号码即可弹出客户信息（支持 138 0013 8000、+86 等写法）。",
    results: "查询结果",
    no_results: "没有找到符合条件的客户。",
    next_page: "下一页",
    account_number: "户号",
    customer_name: "户名",
    id_number: "证件号码",
    id_kind: "证件类型",
    phones: "联系电话",
    address: "用电地址",
    supply_unit: "供电单位",
    grid: "城农网",
    usage_category: "用电类别",
    voltage: "电压等级",
    contract_capacity: "合同容量 (kVA)",
    industry: "行业",
    business_format: "业态",
    scale: "规模",
    value_tier: "价值分层",
    service_grade: "服务等级",
    tags: "标签",
    special_dates: "纪念日",
    status: "状态",
    retired_reason: "退出原因",
    masked_note: "您的角色无需查看个人信息，证件号码和电话已脱敏显示。",
    upcoming_dates: "近 7 天客户纪念日",
    no_upcoming_dates: "近 7 天没有客户纪念日。",
    on_day: "日期",
    profile: "客户档案",
    history: "变更历史",
    when: "时间",
    who: "操作人",
    what: "操作",
    field: "字段",
    old_value: "原值",
    new_value: "新值",
    back: "返回",
    not_found: "没有找到该客户，或该客户不在您的管辖范围内。",
    invalid_input: "输入有误：",
    forbidden: "您的角色无权进行此操作。",
    error: "出错了",
    kind_created: "建档",
    kind_updated: "修改",
    kind_retired: "退出",
    kind_reinstated: "恢复",
    none: "—",
    fulltext_title: "全文检索",
    fulltext_orders: "查工单",
    fulltext_knowledge: "查知识库",
};

static EN: Text = Text {
    product: "kefu",
    centre: "95598 Power Service Centre",
    switch_to: "中文",
    login_title: "Sign in",
    username: "Login name",
    password: "Password",
    sign_in: "Sign in",
    sign_out: "Sign out",
    login_failed: "The login name or the password is wrong.",
    rate_limited: "Too many failed attempts; try again in (seconds): ",
    demo_hint: "Demo: logins agent1, dispatcher1, supervisor.hz, analyst1, admin and more; every password is Kefu-demo-2026.",
    workbench: "Agent workbench",
    change_password: "Change password",
    current_password: "Current password",
    new_password: "New password",
    repeat_password: "New password again",
    password_rule: "10 to 128 characters with at least one letter and one digit, not containing the login name.",
    passwords_differ: "The two new passwords differ.",
    password_changed: "Password changed; every other browser has been signed out.",
    wrong_current_password: "The current password is not right.",
    save: "Save",
    search_title: "Find a customer",
    by_phone: "Caller number",
    by_account: "Account number",
    by_id_number: "ID number",
    by_name: "Name (prefix)",
    search: "Search",
    search_hint: "Type the calling number to pop up the customer (138 0013 8000, +86… all work).",
    results: "Results",
    no_results: "No customer matches.",
    next_page: "Next page",
    account_number: "Account",
    customer_name: "Name",
    id_number: "ID number",
    id_kind: "ID type",
    phones: "Phones",
    address: "Address",
    supply_unit: "Supply unit",
    grid: "Grid",
    usage_category: "Usage category",
    voltage: "Voltage",
    contract_capacity: "Contract capacity (kVA)",
    industry: "Industry",
    business_format: "Business format",
    scale: "Scale",
    value_tier: "Value tier",
    service_grade: "Service grade",
    tags: "Tags",
    special_dates: "Special dates",
    status: "Status",
    retired_reason: "Retired because",
    masked_note: "Your role does not need personal data: ID numbers and phones are masked.",
    upcoming_dates: "Customers' special dates in the next 7 days",
    no_upcoming_dates: "No special dates in the next 7 days.",
    on_day: "Day",
    profile: "Customer profile",
    history: "History of changes",
    when: "When",
    who: "Who",
    what: "What",
    field: "Field",
    old_value: "Before",
    new_value: "After",
    back: "Back",
    not_found: "No such customer, or the customer is outside your units.",
    invalid_input: "Please correct: ",
    forbidden: "Your role may not do this.",
    error: "Something went wrong",
    kind_created: "Created",
    kind_updated: "Updated",
    kind_retired: "Retired",
    kind_reinstated: "Reinstated",
    none: "—",
    fulltext_title: "Full-text search",
    fulltext_orders: "Orders",
    fulltext_knowledge: "Knowledge base",
};
