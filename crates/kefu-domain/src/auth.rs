//! Roles and what they may do (product §11). Permissions are an exhaustive match, so adding a
//! role or a permission forces a decision for every pair.

use crate::FieldError;
use crate::code_enum;

code_enum! {
    /// A staff role.
    pub enum Role {
        /// 坐席: takes contacts on the hotline and other channels.
        Agent = ("agent", "坐席", "Agent"),
        /// 派单员: sends orders to the responsible unit.
        Dispatcher = ("dispatcher", "派单员", "Dispatcher"),
        /// 处理人: handles orders in a unit.
        Handler = ("handler", "处理人", "Handler"),
        /// 客户经理: owns large customers.
        CustomerManager = ("customer_manager", "客户经理", "Customer manager"),
        /// 班长 / 值班长 / 监控: watches and chases.
        Supervisor = ("supervisor", "监控主管", "Supervisor"),
        /// 分析员: reports and analysis.
        Analyst = ("analyst", "分析员", "Analyst"),
        /// 系统管理员: org tree, staff, catalogues.
        Admin = ("admin", "系统管理员", "Administrator"),
        /// 自助服务: the customer self-service portal's own account (never a person; it cannot
        /// sign in). It takes appeals customers submit and records the ratings they give.
        SelfService = ("self_service", "客户自助服务", "Customer self-service"),
    }
}

code_enum! {
    /// Something a request may want to do.
    pub enum Permission {
        /// Read customer records in scope.
        CustomerRead = ("customer.read", "查看客户", "Read customers"),
        /// Create and update customer records in scope.
        CustomerWrite = ("customer.write", "维护客户", "Edit customers"),
        /// Retire (or reinstate) customer records.
        CustomerRetire = ("customer.retire", "客户退出", "Retire customers"),
        /// See ID numbers and phones unmasked.
        PersonalData = ("personal_data", "查看个人信息", "See personal data"),
        /// Read the org tree.
        OrgRead = ("org.read", "查看组织", "Read org tree"),
        /// Change the org tree.
        OrgManage = ("org.manage", "维护组织", "Manage org tree"),
        /// List staff in scope.
        StaffRead = ("staff.read", "查看人员", "Read staff"),
        /// Create staff and reset their passwords.
        StaffManage = ("staff.manage", "维护人员", "Manage staff"),
        /// Read the audit log.
        AuditRead = ("audit.read", "查看审计", "Read audit log"),
        /// Write knowledge-base articles and submit them for review (drafts included).
        KnowledgeEdit = ("knowledge.edit", "编辑知识", "Edit knowledge"),
        /// Publish, send back and archive knowledge-base articles.
        KnowledgeReview = ("knowledge.review", "审核知识", "Review knowledge"),
    }
}

impl Role {
    /// Whether a person may hold this role (the self-service portal's role belongs to its
    /// system account alone).
    pub fn assignable_to_staff(self) -> bool {
        !matches!(self, Role::SelfService)
    }

    /// Whether this role grants `p`.
    pub fn grants(self, p: Permission) -> bool {
        use Permission as P;
        use Role as R;
        match p {
            // The portal account reads nothing through the staff API: the portal shows a
            // customer only their own order.
            P::CustomerRead | P::OrgRead | P::StaffRead => !matches!(self, R::SelfService),
            P::CustomerWrite => matches!(self, R::Agent | R::CustomerManager | R::Admin),
            P::CustomerRetire => matches!(self, R::CustomerManager | R::Admin),
            // Those who talk to customers or act on their accounts need the real numbers;
            // dispatchers, supervisors, analysts and administrators work with masked ones.
            P::PersonalData => matches!(self, R::Agent | R::Handler | R::CustomerManager),
            P::OrgManage | P::StaffManage => matches!(self, R::Admin),
            P::AuditRead => matches!(self, R::Admin | R::Supervisor),
            // Supervisors (班长) and analysts see the questions agents keep asking and write the
            // answers; supervisors and administrators check and publish them. Agents, handlers,
            // dispatchers and customer managers read what is published.
            P::KnowledgeEdit => matches!(self, R::Supervisor | R::Analyst | R::Admin),
            P::KnowledgeReview => matches!(self, R::Supervisor | R::Admin),
        }
    }
}

/// The roles one staff member holds (at least one, no duplicates, sorted).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Roles(Vec<Role>);

impl Roles {
    /// Builds a role set; refuses an empty one.
    pub fn new(mut roles: Vec<Role>) -> Result<Self, FieldError> {
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err(FieldError::new(
                "roles",
                format!("give at least one role: {}", Role::codes_list()),
            ));
        }
        Ok(Self(roles))
    }

    /// Parses role codes, naming the bad one.
    pub fn parse<S: AsRef<str>>(codes: &[S]) -> Result<Self, FieldError> {
        let roles = codes
            .iter()
            .enumerate()
            .map(|(i, c)| Role::parse_code(&format!("roles[{i}]"), c.as_ref().trim()))
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(roles)
    }

    /// Whether any held role grants `p`.
    pub fn allows(&self, p: Permission) -> bool {
        self.0.iter().any(|r| r.grants(p))
    }

    /// The roles.
    pub fn as_slice(&self) -> &[Role] {
        &self.0
    }

    /// Whether `r` is held.
    pub fn has(&self, r: Role) -> bool {
        self.0.contains(&r)
    }
}

/// A login name: 3–32 lower-case letters, digits, `.`, `_` or `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    /// Parses a login name (trimmed, lower-cased).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim().to_ascii_lowercase();
        if !(3..=32).contains(&s.len())
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(FieldError::new(
                "username",
                "use 3 to 32 letters, digits, '.', '_' or '-'",
            ));
        }
        Ok(Self(s))
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 10;
/// The longest password accepted (argon2 work is bounded by it).
pub const MAX_PASSWORD_LEN: usize = 128;

/// Checks a new password: 10–128 characters with at least a letter and a digit, not the username.
pub fn check_new_password(password: &str, username: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    let fail = |r: String| Err(FieldError::new("new_password", r));
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&n) {
        return fail(format!(
            "use {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"
        ));
    }
    if !password.chars().any(char::is_alphabetic) || !password.chars().any(|c| c.is_ascii_digit()) {
        return fail("use at least one letter and one digit".into());
    }
    if password.to_lowercase().contains(&username.to_lowercase()) {
        return fail("the password must not contain the login name".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysts_do_not_see_personal_data_and_agents_do() {
        assert!(!Role::Analyst.grants(Permission::PersonalData));
        assert!(Role::Agent.grants(Permission::PersonalData));
    }

    #[test]
    fn a_second_role_adds_its_permissions() {
        let r = Roles::parse(&["analyst", "customer_manager"]);
        assert_eq!(r.map(|r| r.allows(Permission::PersonalData)), Ok(true));
    }

    #[test]
    fn unknown_role_names_its_position() {
        let e = Roles::parse(&["agent", "boss"]).err().map(|e| e.field);
        assert_eq!(e.as_deref(), Some("roles[1]"));
        assert!(Roles::new(vec![]).is_err());
    }

    #[test]
    fn the_self_service_role_grants_no_staff_permission() {
        assert!(
            Permission::ALL
                .iter()
                .all(|p| !Role::SelfService.grants(*p))
        );
        assert!(!Role::SelfService.assignable_to_staff());
        assert!(Role::Agent.assignable_to_staff());
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(check_new_password("short1", "wang").is_err());
        assert!(check_new_password("onlyletters", "wang").is_err());
        assert!(check_new_password("wang12345678", "wang").is_err());
        assert!(check_new_password("Kefu-2026-demo", "wang").is_ok());
    }
}
