//! Customer archive (客户档案, product §1): the record of one customer and the rules that make it
//! valid, and the field-by-field diff that becomes its change history.

mod fields;
mod identity;
mod phone;
mod record;
mod special_date;

pub use fields::{
    BusinessFormat, CustomerStatus, Grid, Scale, ServiceGrade, SpecialDateKind, UsageCategory,
    ValueTier, Voltage,
};
pub use identity::{
    CreditCode, IdDocument, IdKind, MAX_DOCUMENT_LEN, ResidentId, credit_check_char,
    is_valid_area_code, resident_check_char,
};
pub use phone::Phone;
pub use record::{
    AccountNumber, CustomerInput, CustomerName, CustomerRecord, FieldChange, IdDocumentInput,
    MAX_ADDRESS_LEN, MAX_NAME_LEN, MAX_PHONES, MAX_SPECIAL_DATES, MAX_TAG_LEN, MAX_TAGS,
    SpecialDateInput, diff,
};
pub use special_date::{MAX_LABEL_LEN, MAX_WINDOW_DAYS, SpecialDate, window_keys};
