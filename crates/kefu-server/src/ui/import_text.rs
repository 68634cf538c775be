//! The customer-import page's words, zh-CN first and English second (its own table, so the
//! shared one stays small).

use super::Lang;

/// Every visible string of the import pages.
#[derive(Debug)]
pub struct ImportText {
    pub title: &'static str,
    pub intro: &'static str,
    pub file: &'static str,
    pub encoding: &'static str,
    pub encoding_auto: &'static str,
    pub upload: &'static str,
    pub all_or_nothing: &'static str,
    pub mapping: &'static str,
    pub mapping_hint: &'static str,
    pub needs_script: &'static str,
    pub no_permission: &'static str,
    pub job: &'static str,
    pub state: &'static str,
    pub rows_read: &'static str,
    pub rows_stored: &'static str,
    pub rows_bad: &'static str,
    pub error: &'static str,
    pub report: &'static str,
    pub refreshing: &'static str,
    pub another: &'static str,
    pub not_found: &'static str,
}

const ZH: ImportText = ImportText {
    title: "导入客户档案",
    intro: "上传营销系统导出的客户档案（CSV：UTF-8 或 GBK；Excel：.xlsx / .xls），不超过 20 MiB。导入在后台进行：有效行按户号新建或更新，错误行（包括不在本单位及下级单位的供电单位）列入错误报告。更大的文件请由管理员在服务器上执行 kefu import customers。",
    file: "文件",
    encoding: "CSV 编码",
    encoding_auto: "自动识别",
    upload: "上传并导入",
    all_or_nothing: "全部或全不：有任何错误行就不存储任何行",
    mapping: "列映射（表头与模板不同时填写）",
    mapping_hint: "每行一列：\"文件中的表头\" = \"字段\"，例如 \"CONS_NO\" = \"account_number\"",
    needs_script: "上传需要浏览器启用 JavaScript；也可以通过 API 上传（见 README）。",
    no_permission: "您的角色不能维护客户档案，不能导入。",
    job: "导入任务",
    state: "状态",
    rows_read: "已读取行数",
    rows_stored: "已存储行数",
    rows_bad: "错误行数",
    error: "失败原因",
    report: "下载错误报告（CSV）",
    refreshing: "导入进行中，本页每 2 秒自动刷新。",
    another: "导入另一个文件",
    not_found: "没有这个导入任务，或它不属于您的单位。",
};

const EN: ImportText = ImportText {
    title: "Import customers",
    intro: "Upload the customer archive exported by the marketing system (CSV in UTF-8 or GBK, or Excel .xlsx / .xls), at most 20 MiB. The import runs in the background: good rows are created or updated by account number; bad rows (including supply units outside your unit and the units below it) go to the report. Larger files are imported on the server by an administrator with kefu import customers.",
    file: "File",
    encoding: "CSV encoding",
    encoding_auto: "Detect",
    upload: "Upload and import",
    all_or_nothing: "All or nothing: store no row if any row is bad",
    mapping: "Column mapping (when the headers differ from the template)",
    mapping_hint: "One column a line: \"header in the file\" = \"field\", e.g. \"CONS_NO\" = \"account_number\"",
    needs_script: "Uploading needs JavaScript in the browser; the API accepts uploads too (see the README).",
    no_permission: "Your role may not edit customers, so it may not import them.",
    job: "Import job",
    state: "State",
    rows_read: "Rows read",
    rows_stored: "Rows stored",
    rows_bad: "Bad rows",
    error: "Why it failed",
    report: "Download the bad-row report (CSV)",
    refreshing: "The import is running; this page refreshes every 2 seconds.",
    another: "Import another file",
    not_found: "There is no such import job, or it does not belong to your unit.",
};

impl Lang {
    /// The import pages' words in this language.
    pub fn import_text(self) -> &'static ImportText {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }
}
