//! The handler's reply (回复, domain.md "The reply"): five required fields, the fault finding
//! made after handling (先处理、后定责) and, for damage claims, the compensation paid.

use chrono::{DateTime, Duration, Utc};

use super::vocab::{AppealType, FaultFinding};
use crate::FieldError;
use crate::ids::OrgUnitId;

/// The longest handler (经办人) name.
pub const MAX_HANDLER_LEN: usize = 50;
/// The longest text of "what was done" and of "result and feedback".
pub const MAX_REPLY_TEXT_LEN: usize = 2000;
/// The longest name of a responsible person.
pub const MAX_PERSON_LEN: usize = 50;
/// The longest compensation cause.
pub const MAX_CAUSE_LEN: usize = 500;
/// The largest compensation amount: 1 000 000 yuan in fen (larger claims go to court, not 95598).
pub const MAX_COMPENSATION_FEN: i64 = 100_000_000;
/// How far a handling time may lie ahead of the server clock (a handset's clock drifts).
pub const CLOCK_SKEW_TOLERANCE_SECS: i64 = 300;

/// The reply as submitted: every field optional so that all missing ones are named at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyInput {
    /// 1) 处理时间.
    pub handled_at: Option<DateTime<Utc>>,
    /// 2) 经办人: who did the work (may be field staff without a login).
    pub handler: String,
    /// 3) 处理内容: what was done or explained to the customer.
    pub actions_taken: String,
    /// 4) 处理结果: the result, with the customer's feedback, as found on site.
    pub result_and_feedback: String,
    /// 5) 有责/无责; required for complaints and compensation claims.
    pub fault: Option<FaultFinding>,
    /// The unit at fault (required when at fault).
    pub responsible_unit: Option<OrgUnitId>,
    /// The person at fault (required for an at-fault complaint).
    pub responsible_person: String,
    /// Compensation paid, in fen (required for a compensation claim).
    pub compensation_amount_fen: Option<i64>,
    /// Why the damage happened (required with an amount).
    pub compensation_cause: String,
}

/// Who was at fault, decided after handling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 无责.
    NotAtFault,
    /// 有责: the unit, and the person when known (always named for a complaint).
    AtFault {
        /// The unit at fault.
        responsible_unit: OrgUnitId,
        /// The person at fault.
        responsible_person: Option<String>,
    },
}

/// Compensation paid on a damage claim; counted and analysed every month (seed 003).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compensation {
    /// Amount in fen.
    pub amount_fen: i64,
    /// Cause of the damage.
    pub cause: String,
}

/// A complete, valid reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// When the handling was done.
    pub handled_at: DateTime<Utc>,
    /// Who did it (经办人).
    pub handler: String,
    /// What was done or explained.
    pub actions_taken: String,
    /// The result and the customer's feedback.
    pub result_and_feedback: String,
    /// The fault finding.
    pub fault: Fault,
    /// Compensation paid, if any.
    pub compensation: Option<Compensation>,
}

/// Trims a text and checks it is present and within `max` characters.
fn required_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    what: &str,
    value: &str,
    max: usize,
) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.push(FieldError::new(field, format!("{what} is required")));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("{what} has at most {max} characters"),
        ));
    }
    v.to_owned()
}

impl Reply {
    /// Checks a submitted reply for an appeal of type `appeal_type`, naming every missing field.
    pub fn validate(
        input: ReplyInput,
        appeal_type: AppealType,
        now: DateTime<Utc>,
    ) -> Result<Reply, Vec<FieldError>> {
        let mut errors = Vec::new();
        let handled_at = match input.handled_at {
            None => {
                errors.push(FieldError::new(
                    "handled_at",
                    "the handling time (处理时间) is required",
                ));
                None
            }
            Some(t) if t > now + Duration::seconds(CLOCK_SKEW_TOLERANCE_SECS) => {
                errors.push(FieldError::new(
                    "handled_at",
                    "the handling time lies in the future; give the time the work was done",
                ));
                None
            }
            Some(t) => Some(t),
        };
        let e = &mut errors;
        let handler = required_text(
            e,
            "handler",
            "the handler (经办人)",
            &input.handler,
            MAX_HANDLER_LEN,
        );
        let actions_taken = required_text(
            e,
            "actions_taken",
            "what was done or explained (处理内容)",
            &input.actions_taken,
            MAX_REPLY_TEXT_LEN,
        );
        let result_and_feedback = required_text(
            e,
            "result_and_feedback",
            "the result with the customer's feedback (处理结果)",
            &input.result_and_feedback,
            MAX_REPLY_TEXT_LEN,
        );
        let fault = validate_fault(e, &input, appeal_type);
        let compensation = validate_compensation(e, &input, appeal_type);
        match (handled_at, fault, errors.is_empty()) {
            (Some(handled_at), Some(fault), true) => Ok(Reply {
                handled_at,
                handler,
                actions_taken,
                result_and_feedback,
                fault,
                compensation,
            }),
            _ => Err(errors),
        }
    }
}

/// The fault finding: required for complaints and claims; at fault needs unit (and person).
fn validate_fault(
    errors: &mut Vec<FieldError>,
    input: &ReplyInput,
    appeal_type: AppealType,
) -> Option<Fault> {
    let person = input.responsible_person.trim();
    match input.fault {
        None if appeal_type.needs_fault_finding() => {
            errors.push(FieldError::new(
                "fault",
                format!(
                    "say whether the company was at fault (one of: {}) for a {}",
                    FaultFinding::codes_list(),
                    appeal_type.label_en().to_lowercase()
                ),
            ));
            None
        }
        None | Some(FaultFinding::NotAtFault) => Some(Fault::NotAtFault),
        Some(FaultFinding::AtFault) => {
            let unit = input.responsible_unit;
            if unit.is_none() {
                errors.push(FieldError::new(
                    "responsible_unit",
                    "name the unit at fault (有责单位)",
                ));
            }
            if person.is_empty() && appeal_type == AppealType::Complaint {
                errors.push(FieldError::new(
                    "responsible_person",
                    "an at-fault complaint must name the responsible person (有责人员)",
                ));
            } else if person.chars().count() > MAX_PERSON_LEN {
                errors.push(FieldError::new(
                    "responsible_person",
                    format!("a name has at most {MAX_PERSON_LEN} characters"),
                ));
            }
            unit.map(|responsible_unit| Fault::AtFault {
                responsible_unit,
                responsible_person: (!person.is_empty()).then(|| person.to_owned()),
            })
        }
    }
}

/// Compensation: amount and cause together, required for a compensation claim.
fn validate_compensation(
    errors: &mut Vec<FieldError>,
    input: &ReplyInput,
    appeal_type: AppealType,
) -> Option<Compensation> {
    let cause = input.compensation_cause.trim();
    let required = appeal_type == AppealType::Compensation;
    if !required && input.compensation_amount_fen.is_none() && cause.is_empty() {
        return None;
    }
    let amount = match input.compensation_amount_fen {
        None => {
            errors.push(FieldError::new(
                "compensation_amount_fen",
                "give the compensation amount in fen (0 if nothing was paid)",
            ));
            None
        }
        Some(a) if !(0..=MAX_COMPENSATION_FEN).contains(&a) => {
            errors.push(FieldError::new(
                "compensation_amount_fen",
                format!("the amount must lie between 0 and {MAX_COMPENSATION_FEN} fen"),
            ));
            None
        }
        Some(a) => Some(a),
    };
    let cause = required_text(
        errors,
        "compensation_cause",
        "the cause of the damage",
        cause,
        MAX_CAUSE_LEN,
    );
    amount.map(|amount_fen| Compensation { amount_fen, cause })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default()
    }

    fn full() -> ReplyInput {
        ReplyInput {
            handled_at: Some(now() - Duration::hours(2)),
            handler: "张伟".into(),
            actions_taken: "到现场更换熔断器".into(),
            result_and_feedback: "已恢复供电，客户表示认可".into(),
            fault: Some(FaultFinding::NotAtFault),
            ..ReplyInput::default()
        }
    }

    fn fields(r: Result<Reply, Vec<FieldError>>) -> Vec<String> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn an_empty_reply_names_every_missing_field() {
        let got = fields(Reply::validate(
            ReplyInput::default(),
            AppealType::Complaint,
            now(),
        ));
        assert_eq!(
            got,
            [
                "handled_at",
                "handler",
                "actions_taken",
                "result_and_feedback",
                "fault"
            ]
        );
    }

    #[test]
    fn an_at_fault_complaint_must_name_the_person() {
        let input = ReplyInput {
            fault: Some(FaultFinding::AtFault),
            responsible_unit: Some(OrgUnitId(4)),
            ..full()
        };
        assert_eq!(
            fields(Reply::validate(input.clone(), AppealType::Complaint, now())),
            ["responsible_person"]
        );
        // Other types may leave the person open.
        assert!(Reply::validate(input.clone(), AppealType::Opinion, now()).is_ok());
        let named = ReplyInput {
            responsible_person: "李明".into(),
            ..input
        };
        let r = Reply::validate(named, AppealType::Complaint, now()).map(|r| r.fault);
        assert_eq!(
            r,
            Ok(Fault::AtFault {
                responsible_unit: OrgUnitId(4),
                responsible_person: Some("李明".into())
            })
        );
    }

    #[test]
    fn a_future_handling_time_and_overlong_text_are_refused() {
        let input = ReplyInput {
            handled_at: Some(now() + Duration::hours(1)),
            actions_taken: "很".repeat(MAX_REPLY_TEXT_LEN + 1),
            ..full()
        };
        assert_eq!(
            fields(Reply::validate(input, AppealType::Complaint, now())),
            ["handled_at", "actions_taken"]
        );
    }

    #[test]
    fn a_compensation_claim_records_amount_and_cause() {
        assert_eq!(
            fields(Reply::validate(full(), AppealType::Compensation, now())),
            ["compensation_amount_fen", "compensation_cause"]
        );
        let input = ReplyInput {
            compensation_amount_fen: Some(120_000),
            compensation_cause: "雷击导致电压异常，损坏电视机".into(),
            ..full()
        };
        let c = Reply::validate(input, AppealType::Compensation, now()).map(|r| r.compensation);
        assert_eq!(c.map(|c| c.map(|c| c.amount_fen)), Ok(Some(120_000)));
        // A consultation needs no fault finding at all.
        let plain = ReplyInput {
            fault: None,
            ..full()
        };
        assert_eq!(
            Reply::validate(plain, AppealType::Consultation, now()).map(|r| r.fault),
            Ok(Fault::NotAtFault)
        );
    }
}
