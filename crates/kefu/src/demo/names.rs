//! Chinese personal and company names for the demo: surnames weighted roughly by their frequency
//! (王, 李, 张, 刘, 陈 lead), given names of one or two characters chosen by sex, and company names
//! in the usual `城市 + 字号 + 行业 + 有限公司` shape.

use rand::Rng;
use rand::seq::IndexedRandom;

/// Common surnames with a relative weight (per mille of the population, rounded).
const SURNAMES: &[(&str, u32)] = &[
    ("王", 72),
    ("李", 72),
    ("张", 68),
    ("刘", 53),
    ("陈", 65),
    ("杨", 31),
    ("黄", 23),
    ("赵", 20),
    ("吴", 25),
    ("周", 22),
    ("徐", 22),
    ("孙", 15),
    ("马", 12),
    ("朱", 15),
    ("胡", 14),
    ("郭", 10),
    ("何", 10),
    ("林", 14),
    ("高", 10),
    ("罗", 9),
    ("郑", 12),
    ("梁", 7),
    ("谢", 7),
    ("宋", 6),
    ("唐", 6),
    ("许", 8),
    ("韩", 5),
    ("冯", 5),
    ("邓", 5),
    ("曹", 5),
    ("彭", 4),
    ("曾", 4),
    ("肖", 4),
    ("田", 4),
    ("董", 4),
    ("潘", 5),
    ("袁", 4),
    ("蒋", 5),
    ("蔡", 5),
    ("余", 4),
    ("叶", 6),
    ("程", 3),
    ("苏", 3),
    ("魏", 3),
    ("吕", 3),
    ("丁", 3),
    ("沈", 7),
    ("姚", 3),
    ("钱", 4),
    ("俞", 4),
    ("方", 4),
    ("金", 5),
    ("汪", 3),
    ("陆", 3),
    ("应", 2),
    ("章", 3),
    ("虞", 1),
    ("楼", 1),
    ("诸葛", 1),
    ("欧阳", 1),
];

const MALE_CHARS: &[&str] = &[
    "伟", "强", "军", "磊", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞",
    "建", "国", "志", "海", "林", "峰", "浩", "宇", "俊", "晨", "凯", "文", "东", "鑫", "荣", "德",
    "永", "祥", "亮", "成", "波", "博", "子", "航",
];

const FEMALE_CHARS: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "秀", "英", "霞", "玲", "燕", "红", "梅", "琳", "婷", "雪",
    "倩", "颖", "慧", "佳", "洁", "萍", "琴", "蕾", "欣", "怡", "悦", "晶", "雯", "莉", "兰", "美",
    "月", "彤", "诗", "涵",
];

/// 字号 of companies and shops (invented, common-sounding).
const BRANDS: &[&str] = &[
    "恒达", "鑫源", "华联", "天成", "宏远", "瑞丰", "金辉", "永盛", "嘉禾", "和泰", "东升", "新奥",
    "万利", "聚丰", "博远", "正泰", "兴隆", "富春", "之江", "明珠", "海川", "长青", "汇通", "晨光",
];

/// Manufacturing lines of large-industry customers: (name word, 行业).
pub const INDUSTRIES: &[(&str, &str)] = &[
    ("纺织", "纺织业"),
    ("化纤", "化学纤维制造业"),
    ("机械", "通用设备制造业"),
    ("电器", "电气机械和器材制造业"),
    ("电子科技", "计算机、通信和其他电子设备制造业"),
    ("化工", "化学原料和化学制品制造业"),
    ("塑业", "橡胶和塑料制品业"),
    ("建材", "非金属矿物制品业"),
    ("食品", "农副食品加工业"),
    ("包装", "造纸和纸制品业"),
];

/// Picks a surname by weight.
pub fn surname<R: Rng + ?Sized>(rng: &mut R) -> &'static str {
    let total: u32 = SURNAMES.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    for (name, w) in SURNAMES {
        if pick < *w {
            return name;
        }
        pick -= w;
    }
    "王"
}

/// A given name of one (about a third) or two characters.
pub fn given_name<R: Rng + ?Sized>(rng: &mut R, male: bool) -> String {
    let chars = if male { MALE_CHARS } else { FEMALE_CHARS };
    let first = chars.choose(rng).copied().unwrap_or("明");
    if rng.random_bool(0.33) {
        first.to_owned()
    } else {
        let second = chars.choose(rng).copied().unwrap_or("华");
        format!("{first}{second}")
    }
}

/// A full personal name.
pub fn person_name<R: Rng + ?Sized>(rng: &mut R, male: bool) -> String {
    format!("{}{}", surname(rng), given_name(rng, male))
}

/// A 字号.
pub fn brand<R: Rng + ?Sized>(rng: &mut R) -> &'static str {
    BRANDS.choose(rng).copied().unwrap_or("恒达")
}

/// A manufacturing company: `杭州恒达纺织有限公司`, with its 行业.
pub fn factory_name<R: Rng + ?Sized>(rng: &mut R, city: &str) -> (String, &'static str) {
    let (word, industry) = INDUSTRIES
        .choose(rng)
        .copied()
        .unwrap_or(("机械", "制造业"));
    let city = city.trim_end_matches('市');
    (format!("{city}{}{word}有限公司", brand(rng)), industry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn common_surnames_dominate() {
        let mut rng = StdRng::seed_from_u64(1);
        let n = 10_000;
        let top = (0..n)
            .filter(|_| matches!(surname(&mut rng), "王" | "李" | "张" | "刘" | "陈"))
            .count();
        // The five leading surnames carry about 30 % of China's population and 44 % of the
        // weight of this list, which leaves out the long tail of rare surnames.
        assert!((4_000..4_900).contains(&top), "{top}");
    }

    #[test]
    fn names_have_two_to_four_characters() {
        let mut rng = StdRng::seed_from_u64(2);
        for i in 0..1_000 {
            let n = person_name(&mut rng, i % 2 == 0).chars().count();
            assert!((2..=4).contains(&n));
        }
    }
}
