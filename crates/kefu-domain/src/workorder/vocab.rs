//! The closed vocabularies of a work order: channels, appeal types, states, priorities, the
//! reasons and results a step records, and the actions a person can take.

use crate::code_enum;

code_enum! {
    /// Where the appeal came in (95598 business rules 2014, plus the newer channels).
    pub enum Channel {
        /// 95598 hotline call.
        Phone95598 = ("phone_95598", "95598电话", "95598 hotline"),
        /// 95598 website.
        Web = ("web", "95598网站", "Website"),
        /// E-mail.
        Email = ("email", "电子邮件", "E-mail"),
        /// Letter.
        Letter = ("letter", "信函", "Letter"),
        /// Service-hall counter.
        Counter = ("counter", "营业厅", "Counter"),
        /// Mobile app or WeChat (网上国网, 微信公众号).
        App = ("app", "掌上电力/微信", "App / WeChat"),
        /// Weibo.
        Weibo = ("weibo", "微博", "Weibo"),
        /// SMS.
        Sms = ("sms", "短信", "SMS"),
        /// Fax.
        Fax = ("fax", "传真", "Fax"),
        /// A large customer's customer manager took it.
        CustomerManager = ("customer_manager", "客户经理", "Customer manager"),
    }
}

code_enum! {
    /// What kind of appeal this is (95598 catalogue, domain.md "Appeal types").
    pub enum AppealType {
        /// 咨询
        Consultation = ("consultation", "咨询", "Consultation"),
        /// 投诉
        Complaint = ("complaint", "投诉", "Complaint"),
        /// 举报
        Report = ("report", "举报", "Report"),
        /// 意见
        Opinion = ("opinion", "意见", "Opinion"),
        /// 建议
        Suggestion = ("suggestion", "建议", "Suggestion"),
        /// 表扬
        Praise = ("praise", "表扬", "Praise"),
        /// 故障报修
        FaultRepair = ("fault_repair", "故障报修", "Fault repair"),
        /// 服务申请
        ServiceRequest = ("service_request", "服务申请", "Service request"),
        /// 赔偿 (non-marketing, handled by customer nature: resident / non-resident)
        Compensation = ("compensation", "赔偿", "Compensation claim"),
    }
}

impl AppealType {
    /// Whether the reply must say who was at fault (先处理、后定责: complaints and damage claims).
    pub fn needs_fault_finding(self) -> bool {
        matches!(self, AppealType::Complaint | AppealType::Compensation)
    }
}

code_enum! {
    /// Where an order stands in its lifecycle; see the table in the module documentation.
    pub enum State {
        /// 待派单: taken by the agent, waiting for the dispatcher.
        PendingDispatch = ("pending_dispatch", "待派单", "Pending dispatch"),
        /// 已派单: sent to a unit, waiting for it to accept or return it.
        Dispatched = ("dispatched", "已派单", "Dispatched"),
        /// 已回退: the unit sent it back; the dispatcher must re-dispatch.
        Returned = ("returned", "已回退", "Returned"),
        /// 处理中: the host unit accepted it and is handling it.
        InProgress = ("in_progress", "处理中", "In progress"),
        /// 审核退回: the centre refused the reply; the unit must reply again.
        SentBack = ("sent_back", "审核退回", "Sent back"),
        /// 待审核: the unit replied; the centre must review the reply.
        Replied = ("replied", "待审核", "Replied"),
        /// 待回访: the reply was approved; the centre must call the customer back.
        Reviewed = ("reviewed", "待回访", "Reviewed"),
        /// 已回访: the visit is done; waiting for archive or reopen.
        Visited = ("visited", "已回访", "Visited"),
        /// 重新打开: reopened after the visit; the dispatcher must dispatch it again.
        Reopened = ("reopened", "重新打开", "Reopened"),
        /// 已归档: closed for good, read-only.
        Archived = ("archived", "已归档", "Archived"),
    }
}

impl State {
    /// Who must act next: the work list the order shows on, and whom a chase hurries.
    pub fn waits_for(self) -> Party {
        match self {
            State::PendingDispatch | State::Returned | State::Reopened => Party::Dispatcher,
            State::Dispatched | State::InProgress | State::SentBack => Party::HostUnit,
            State::Replied | State::Reviewed | State::Visited => Party::Centre,
            State::Archived => Party::Nobody,
        }
    }

    /// Whether the order waits for the dispatcher (new, returned or reopened).
    pub fn awaits_dispatch(self) -> bool {
        matches!(
            self,
            State::PendingDispatch | State::Returned | State::Reopened
        )
    }

    /// Whether a unit holds the order (dispatched, in progress or sent back).
    pub fn held_by_unit(self) -> bool {
        matches!(
            self,
            State::Dispatched | State::InProgress | State::SentBack
        )
    }
}

code_enum! {
    /// Who holds an order in a state (its work list).
    pub enum Party {
        /// The dispatchers of the centre.
        Dispatcher = ("dispatcher", "派单员", "Dispatcher"),
        /// The handlers of the host unit.
        HostUnit = ("host_unit", "主办单位", "Host unit"),
        /// The centre's reviewers and visiting agents.
        Centre = ("centre", "服务中心", "Service centre"),
        /// Nobody: the order is archived.
        Nobody = ("nobody", "无", "Nobody"),
    }
}

code_enum! {
    /// How urgent the order is; `Major` is reserved for major appeals (重大诉求).
    pub enum Priority {
        /// 一般
        Normal = ("normal", "一般", "Normal"),
        /// 紧急
        Urgent = ("urgent", "紧急", "Urgent"),
        /// 重大: top priority, on the supervisors' board at once.
        Major = ("major", "重大", "Major"),
    }
}

code_enum! {
    /// Why a unit returns an order (回退); `Other` needs a text.
    pub enum ReturnReason {
        /// 地址有误
        WrongAddress = ("wrong_address", "地址有误", "Wrong address"),
        /// 类别有误
        WrongCategory = ("wrong_category", "类别有误", "Wrong category"),
        /// 非本单位处理
        NotOurs = ("not_ours", "非本单位处理", "Not ours"),
        /// 其他 (explained in the text)
        Other = ("other", "其他", "Other"),
    }
}

code_enum! {
    /// The customer's satisfaction on the 5-level Likert scale (domain.md "Satisfaction").
    pub enum Satisfaction {
        /// 很满意 (5)
        VerySatisfied = ("5", "很满意", "Very satisfied"),
        /// 满意 (4)
        Satisfied = ("4", "满意", "Satisfied"),
        /// 一般 (3)
        Neutral = ("3", "一般", "Neutral"),
        /// 不满意 (2)
        Dissatisfied = ("2", "不满意", "Dissatisfied"),
        /// 很不满意 (1)
        VeryDissatisfied = ("1", "很不满意", "Very dissatisfied"),
    }
}

impl Satisfaction {
    /// The score 1–5.
    pub fn score(self) -> u8 {
        match self {
            Satisfaction::VerySatisfied => 5,
            Satisfaction::Satisfied => 4,
            Satisfaction::Neutral => 3,
            Satisfaction::Dissatisfied => 2,
            Satisfaction::VeryDissatisfied => 1,
        }
    }

    /// The level for a score 1–5.
    pub fn from_score(score: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.score() == score)
    }

    /// "Satisfied" as the indicators count it: 4 or 5.
    pub fn is_satisfied(self) -> bool {
        self.score() >= 4
    }

    /// Dissatisfied enough (1 or 2) that the customer may have the order reopened.
    pub fn is_dissatisfied(self) -> bool {
        self.score() <= 2
    }
}

code_enum! {
    /// What happened when the centre called the customer back (回访).
    pub enum ContactResult {
        /// 回访成功: the customer was reached and rated the handling.
        Reached = ("reached", "回访成功", "Reached"),
        /// 无人接听: try again later.
        NoAnswer = ("no_answer", "无人接听", "No answer"),
        /// 占线/关机: try again later.
        Busy = ("busy", "占线或关机", "Busy or switched off"),
        /// 拒绝回访: the customer declined; the visit is over.
        Declined = ("declined", "拒绝回访", "Declined"),
        /// 号码错误: no valid number; the visit is over.
        WrongNumber = ("wrong_number", "号码错误", "Wrong number"),
    }
}

impl ContactResult {
    /// Whether another call should be tried (the attempt does not end the visit by itself).
    pub fn retry_later(self) -> bool {
        matches!(self, ContactResult::NoAnswer | ContactResult::Busy)
    }
}

code_enum! {
    /// Whether the handling found the company at fault (有责) — the reply's fifth field.
    pub enum FaultFinding {
        /// 无责
        NotAtFault = ("not_at_fault", "无责", "Not at fault"),
        /// 有责
        AtFault = ("at_fault", "有责", "At fault"),
    }
}

code_enum! {
    /// Something a person can do to an existing order (one API endpoint each).
    pub enum Action {
        /// 受理: take an appeal (creates the order; never allowed on an existing one).
        Intake = ("intake", "受理", "Intake"),
        /// 派单 / 改派
        Dispatch = ("dispatch", "派单", "Dispatch"),
        /// 改类: correct the appeal type and sub-category before dispatch.
        Reclassify = ("reclassify", "改类", "Reclassify"),
        /// 接单
        Accept = ("accept", "接单", "Accept"),
        /// 回退
        Return = ("return", "回退", "Return"),
        /// 催办
        Chase = ("chase", "催办", "Chase"),
        /// 督办
        Supervise = ("supervise", "督办", "Supervise"),
        /// 回复
        Reply = ("reply", "回复", "Reply"),
        /// 审核
        Review = ("review", "审核", "Review"),
        /// 回访
        Visit = ("visit", "回访", "Visit"),
        /// 重新打开
        Reopen = ("reopen", "重新打开", "Reopen"),
        /// 归档
        Archive = ("archive", "归档", "Archive"),
        /// 协办: add an assisting unit.
        AddAssist = ("add_assist", "增加协办", "Add assisting unit"),
        /// 标记重大
        FlagMajor = ("flag_major", "标记重大", "Flag as major"),
        /// 联系客户: the host unit records that it reached the customer (the contact limit).
        Contact = ("contact", "联系客户", "Record contact"),
        /// 到达现场: a repair crew records its arrival (fault repair's arrive limit).
        Arrive = ("arrive", "到达现场", "Record arrival on site"),
        /// 挂起: stop the clock while the rules allow it.
        Suspend = ("suspend", "挂起", "Suspend"),
        /// 解挂: start the clock again.
        Resume = ("resume", "解除挂起", "Resume"),
        /// 客户评价: the customer rates the answer through the self-service portal.
        CustomerRate = ("customer_rate", "客户评价", "Customer rating"),
    }
}

code_enum! {
    /// Why an order may be suspended (挂起): only reasons outside the unit's control stop the
    /// clock.
    pub enum SuspendReason {
        /// 客户联系不上: the customer cannot be reached.
        CustomerUnreachable = ("customer_unreachable", "客户无法联系", "Customer unreachable"),
        /// 等待客户: waiting for the customer (documents, a visit date, a decision).
        WaitingForCustomer = ("waiting_for_customer", "等待客户", "Waiting for the customer"),
    }
}
