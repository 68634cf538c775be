//! The closed vocabularies of a customer record (domain.md "Customers").

use crate::code_enum;

code_enum! {
    /// 用电类别: the tariff class of the supply.
    pub enum UsageCategory {
        /// 居民生活
        Residential = ("residential", "居民生活", "Residential"),
        /// 一般工商业
        Commercial = ("commercial", "一般工商业", "General commercial & industrial"),
        /// 大工业
        LargeIndustry = ("large_industry", "大工业", "Large industry"),
        /// 农业生产
        Agricultural = ("agricultural", "农业生产", "Agricultural production"),
    }
}

code_enum! {
    /// 电压等级: the supply voltage.
    pub enum Voltage {
        /// 220 V single phase
        V220 = ("220v", "220V", "220 V"),
        /// 380 V three phase
        V380 = ("380v", "380V", "380 V"),
        /// 10 kV
        Kv10 = ("10kv", "10kV", "10 kV"),
        /// 20 kV
        Kv20 = ("20kv", "20kV", "20 kV"),
        /// 35 kV
        Kv35 = ("35kv", "35kV", "35 kV"),
        /// 110 kV
        Kv110 = ("110kv", "110kV", "110 kV"),
        /// 220 kV
        Kv220 = ("220kv", "220kV", "220 kV"),
    }
}

impl Voltage {
    /// Whether this is high voltage (10 kV and above), the mark of a large customer.
    pub fn is_high(self) -> bool {
        !matches!(self, Voltage::V220 | Voltage::V380)
    }
}

code_enum! {
    /// 城网 / 农网: which grid serves the customer; drives fault-repair limits.
    pub enum Grid {
        /// 城网
        Urban = ("urban", "城网", "Urban grid"),
        /// 农网
        Rural = ("rural", "农网", "Rural grid"),
    }
}

code_enum! {
    /// 业态: the business format of a commercial customer (seed 001 范文4).
    pub enum BusinessFormat {
        /// 食杂店
        Grocery = ("grocery", "食杂店", "Grocery"),
        /// 便利店
        ConvenienceStore = ("convenience", "便利店", "Convenience store"),
        /// 烟酒店
        TobaccoLiquor = ("tobacco_liquor", "烟酒店", "Tobacco & liquor shop"),
        /// 超市
        Supermarket = ("supermarket", "超市", "Supermarket"),
        /// 商场
        Mall = ("mall", "商场", "Shopping mall"),
        /// 娱乐服务类
        Entertainment = ("entertainment", "娱乐服务类", "Entertainment & services"),
        /// 其他
        Other = ("other", "其他", "Other"),
    }
}

code_enum! {
    /// 规模: large, medium or small operation.
    pub enum Scale {
        /// 大型
        Large = ("large", "大型", "Large"),
        /// 中型
        Medium = ("medium", "中型", "Medium"),
        /// 小型
        Small = ("small", "小型", "Small"),
    }
}

code_enum! {
    /// 价值分层: the value pyramid by revenue/usage (seed 002).
    pub enum ValueTier {
        /// VIP客户
        Vip = ("vip", "VIP客户", "VIP"),
        /// 重要客户
        Major = ("major", "重要客户", "Major"),
        /// 普通客户
        Normal = ("normal", "普通客户", "Normal"),
        /// 小客户
        Small = ("small", "小客户", "Small"),
    }
}

code_enum! {
    /// 服务等级: household grades and enterprise grades (seed 002).
    pub enum ServiceGrade {
        /// 钻石卡
        Diamond = ("diamond", "钻石", "Diamond"),
        /// 金卡
        Gold = ("gold", "金卡", "Gold"),
        /// 银卡
        Silver = ("silver", "银卡", "Silver"),
        /// 普通
        Basic = ("basic", "普通", "Basic"),
        /// 企业 1A
        A1 = ("1a", "1A", "1A"),
        /// 企业 2A
        A2 = ("2a", "2A", "2A"),
        /// 企业 3A
        A3 = ("3a", "3A", "3A"),
        /// 企业 4A
        A4 = ("4a", "4A", "4A"),
        /// 企业 5A
        A5 = ("5a", "5A", "5A"),
        /// 企业 1B
        B1 = ("1b", "1B", "1B"),
        /// 企业 2B
        B2 = ("2b", "2B", "2B"),
        /// 企业 3B
        B3 = ("3b", "3B", "3B"),
        /// 企业 4B
        B4 = ("4b", "4B", "4B"),
        /// 企业 5B
        B5 = ("5b", "5B", "5B"),
    }
}

code_enum! {
    /// Whether a customer is served or retired from the archive (history kept either way).
    pub enum CustomerStatus {
        /// 正常
        Active = ("active", "正常", "Active"),
        /// 已注销 / 退出
        Retired = ("retired", "已退出", "Retired"),
    }
}

code_enum! {
    /// 纪念日 kinds for personal care (seed 001 范文6).
    pub enum SpecialDateKind {
        /// 生日
        Birthday = ("birthday", "生日", "Birthday"),
        /// 成立日
        Founding = ("founding", "成立纪念日", "Founding day"),
        /// 合同签订纪念日
        ContractAnniversary = ("contract", "合同纪念日", "Contract anniversary"),
        /// 其他
        Other = ("other", "其他纪念日", "Other"),
    }
}
