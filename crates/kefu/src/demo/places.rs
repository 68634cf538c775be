//! The demo province's geography: cities, counties (with their real GB/T 2260 area codes, used
//! as unit codes and as the area code of residents' ID numbers), stations, streets, estates and
//! villages. Street and town names are real names of each district; house numbers are invented.

/// A 供电所 under a county, serving the villages of one town.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Station {
    /// Unit code, `<county code>-NN`.
    pub code: &'static str,
    /// Unit name.
    pub name: &'static str,
    /// The town (镇/街道) whose rural customers it serves; one of the county's `towns`.
    pub town: &'static str,
}

/// A county-level unit (区/县级市) and what its addresses are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct County {
    /// The six-digit administrative area code, also the unit code.
    pub code: &'static str,
    /// District name as written in an address (西湖区).
    pub district: &'static str,
    /// Unit name.
    pub unit_name: &'static str,
    /// Relative number of customers (roughly the population).
    pub weight: u32,
    /// Share of customers on the rural grid, in percent.
    pub rural_percent: u32,
    /// Urban roads (路/街/大道).
    pub roads: &'static [&'static str],
    /// Residential estates (小区).
    pub estates: &'static [&'static str],
    /// Rural towns (镇/街道) of the district.
    pub towns: &'static [&'static str],
    /// 供电所 of the county (may be empty).
    pub stations: &'static [Station],
}

/// A city-level unit (地市) and its counties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct City {
    /// Four-digit area code, the unit code.
    pub code: &'static str,
    /// City name as written in an address (杭州市).
    pub city: &'static str,
    /// Unit name.
    pub unit_name: &'static str,
    /// Landline area code (0571).
    pub phone_area: &'static str,
    /// The counties below it.
    pub counties: &'static [County],
}

/// The province-level address prefix.
pub const PROVINCE: &str = "浙江省";

/// Village names used for rural addresses (generic, common in Zhejiang).
pub const VILLAGES: &[&str] = &[
    "前山", "后塘", "下湾", "上庄", "东岙", "西坞", "新桥", "南岸", "横街", "里溪", "石门", "洋头",
    "塘湾", "沙埠", "大路", "桥头", "竹园", "枫林", "双溪", "长垄",
];

/// The demo province's cities, counties and stations.
pub const CITIES: &[City] = &[
    City {
        code: "3301",
        city: "杭州市",
        unit_name: "国网杭州供电公司",
        phone_area: "0571",
        counties: &[
            County {
                code: "330106",
                district: "西湖区",
                unit_name: "国网杭州市西湖区供电公司",
                weight: 14,
                rural_percent: 5,
                roads: &[
                    "文三路",
                    "文二路",
                    "文一西路",
                    "天目山路",
                    "教工路",
                    "古墩路",
                    "紫金港路",
                    "学院路",
                    "莫干山路",
                    "留和路",
                ],
                estates: &[
                    "翠苑一区",
                    "翠苑二区",
                    "古荡新村",
                    "嘉绿苑",
                    "文新小区",
                    "骆家庄",
                    "西溪花园",
                    "金都华府",
                ],
                towns: &["双浦镇", "转塘街道"],
                stations: &[],
            },
            County {
                code: "330108",
                district: "滨江区",
                unit_name: "国网杭州市滨江区供电公司",
                weight: 8,
                rural_percent: 0,
                roads: &[
                    "江南大道",
                    "滨盛路",
                    "江陵路",
                    "长河路",
                    "浦沿路",
                    "西兴路",
                    "网商路",
                    "泰安路",
                ],
                estates: &[
                    "东方郡",
                    "钱塘春晓",
                    "江南文苑",
                    "滨江花园",
                    "白金海岸",
                    "彩虹城",
                ],
                towns: &[],
                stations: &[],
            },
            County {
                code: "330110",
                district: "余杭区",
                unit_name: "国网杭州市余杭区供电公司",
                weight: 14,
                rural_percent: 30,
                roads: &[
                    "文一西路",
                    "五常大道",
                    "良睦路",
                    "荆长大道",
                    "高教路",
                    "良运街",
                    "余杭塘路",
                ],
                estates: &["良渚文化村", "西溪北苑", "五常港湾", "闲林山水", "仓前新苑"],
                towns: &["径山镇", "黄湖镇", "鸬鸟镇", "百丈镇"],
                stations: &[
                    Station {
                        code: "330110-01",
                        name: "径山供电所",
                        town: "径山镇",
                    },
                    Station {
                        code: "330110-02",
                        name: "黄湖供电所",
                        town: "黄湖镇",
                    },
                ],
            },
            County {
                code: "330109",
                district: "萧山区",
                unit_name: "国网杭州市萧山区供电公司",
                weight: 14,
                rural_percent: 30,
                roads: &[
                    "市心路",
                    "金城路",
                    "人民路",
                    "建设一路",
                    "萧金路",
                    "山阴路",
                    "育才路",
                ],
                estates: &["金色家园", "南江公寓", "城厢新苑", "湘湖人家", "萧山新城"],
                towns: &["瓜沥镇", "义桥镇", "河上镇", "戴村镇"],
                stations: &[Station {
                    code: "330109-01",
                    name: "瓜沥供电所",
                    town: "瓜沥镇",
                }],
            },
        ],
    },
    City {
        code: "3302",
        city: "宁波市",
        unit_name: "国网宁波供电公司",
        phone_area: "0574",
        counties: &[
            County {
                code: "330203",
                district: "海曙区",
                unit_name: "国网宁波市海曙区供电公司",
                weight: 9,
                rural_percent: 20,
                roads: &[
                    "中山西路",
                    "解放南路",
                    "药行街",
                    "柳汀街",
                    "望春路",
                    "气象路",
                ],
                estates: &["月湖花园", "南苑新村", "望春小区", "芝兰新城"],
                towns: &["集士港镇", "古林镇", "章水镇"],
                stations: &[Station {
                    code: "330203-01",
                    name: "集士港供电所",
                    town: "集士港镇",
                }],
            },
            County {
                code: "330212",
                district: "鄞州区",
                unit_name: "国网宁波市鄞州区供电公司",
                weight: 14,
                rural_percent: 20,
                roads: &[
                    "天童南路",
                    "四明中路",
                    "宁南南路",
                    "钱湖北路",
                    "鄞县大道",
                    "惊驾路",
                ],
                estates: &["东方丽都", "格兰春天", "四明花园", "世纪东方", "万科城"],
                towns: &["姜山镇", "咸祥镇", "横溪镇"],
                stations: &[],
            },
        ],
    },
    City {
        code: "3303",
        city: "温州市",
        unit_name: "国网温州供电公司",
        phone_area: "0577",
        counties: &[
            County {
                code: "330302",
                district: "鹿城区",
                unit_name: "国网温州市鹿城区供电公司",
                weight: 11,
                rural_percent: 10,
                roads: &[
                    "人民路",
                    "车站大道",
                    "学院路",
                    "府前街",
                    "将军桥路",
                    "锦绣路",
                ],
                estates: &["蒲鞋市小区", "黄龙住宅区", "松台小区", "锦江公寓"],
                towns: &["藤桥镇", "山福镇"],
                stations: &[],
            },
            County {
                code: "330381",
                district: "瑞安市",
                unit_name: "国网瑞安市供电公司",
                weight: 16,
                rural_percent: 50,
                roads: &[
                    "万松路",
                    "罗阳大道",
                    "瑞祥大道",
                    "安阳路",
                    "虹桥路",
                    "玉海街",
                ],
                estates: &["安阳新村", "万松小区", "瑞祥新区", "隆山花园"],
                towns: &["塘下镇", "陶山镇", "马屿镇", "飞云街道"],
                stations: &[
                    Station {
                        code: "330381-01",
                        name: "塘下供电所",
                        town: "塘下镇",
                    },
                    Station {
                        code: "330381-02",
                        name: "陶山供电所",
                        town: "陶山镇",
                    },
                ],
            },
        ],
    },
];

/// Every county with the city it belongs to, in a fixed order.
pub fn counties() -> impl Iterator<Item = (&'static City, &'static County)> {
    CITIES
        .iter()
        .flat_map(|city| city.counties.iter().map(move |county| (city, county)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counties_sit_in_their_city_and_stations_in_their_county() {
        for (city, county) in counties() {
            assert!(county.code.starts_with(city.code), "{}", county.code);
            assert!(kefu_domain::customer::is_valid_area_code(county.code));
            for s in county.stations {
                assert!(s.code.starts_with(county.code));
                assert!(county.towns.contains(&s.town), "{}", s.name);
            }
            if county.rural_percent > 0 {
                assert!(!county.towns.is_empty(), "{}", county.district);
            }
        }
    }
}
