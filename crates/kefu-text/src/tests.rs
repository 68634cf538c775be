use super::*;

fn seg() -> Arc<Segmenter> {
    Segmenter::standard()
}

#[test]
fn domain_words_are_kept_whole() {
    let terms = seg().query_terms("我家户号的电费怎么这么高，业扩报装办了一个月");
    for word in ["户号", "电费", "业扩报装"] {
        assert!(terms.contains(&word.to_owned()), "{word} in {terms:?}");
    }
    assert!(
        !terms.contains(&"的".to_owned()),
        "particles are dropped: {terms:?}"
    );
}

#[test]
fn search_mode_indexes_the_words_inside_a_long_word() {
    let terms = seg().index_terms("申请业扩报装");
    assert!(terms.contains(&"业扩报装".to_owned()), "{terms:?}");
    assert!(terms.contains(&"报装".to_owned()), "{terms:?}");
}

#[test]
fn numbers_and_latin_words_stay_whole_and_fold_case_and_width() {
    let terms = seg().index_terms("户号：0512345678，工单GD20261205000123，尾号５６７８，WiFi断了");
    for t in ["0512345678", "gd20261205000123", "5678", "wifi"] {
        assert!(terms.contains(&t.to_owned()), "{t} in {terms:?}");
    }
    assert_eq!(
        seg().query_terms("ＧＤ20261205000123"),
        vec!["gd20261205000123".to_owned()]
    );
}

#[test]
fn punctuation_never_becomes_a_term() {
    let terms = seg().index_terms("电压低！！？ 1.5倍……（急）");
    assert!(
        terms.iter().all(|t| t.chars().all(char::is_alphanumeric)),
        "{terms:?}"
    );
    assert!(seg().query_terms("，。！？").is_empty());
}

#[test]
fn a_user_word_becomes_one_term_only_once_added() {
    let text = "峰谷电价怎么算";
    let before = seg().query_terms(text);
    assert!(!before.contains(&"峰谷电价".to_owned()), "{before:?}");
    let custom = Segmenter::with_words(&["峰谷电价".to_owned()]);
    let after = custom.query_terms(text);
    assert!(after.contains(&"峰谷电价".to_owned()), "{after:?}");
    assert!(custom.index_terms(text).contains(&"峰谷电价".to_owned()));
}

#[test]
fn a_query_keeps_at_most_the_limit_of_distinct_terms() {
    let long: String = (0..40).map(|i| format!("词{i} ")).collect();
    let terms = seg().query_terms(&long);
    assert!(terms.len() <= MAX_QUERY_TERMS, "{}", terms.len());
    assert_eq!(seg().query_terms("电费 电费 电费"), vec!["电费".to_owned()]);
}

#[test]
fn check_words_reports_every_bad_word_and_drops_repeats() {
    let ok = check_words(&[" 峰谷电价 ".into(), "自备变".into(), "峰谷电价".into()]);
    assert_eq!(ok, Ok(vec!["峰谷电价".to_owned(), "自备变".to_owned()]));
    let bad = check_words(&["".into(), "好词".into(), "a b".into(), "x".repeat(21)]);
    let positions: Vec<usize> = bad.err().unwrap_or_default().iter().map(|e| e.0).collect();
    assert_eq!(positions, vec![0, 2, 3]);
}

#[test]
fn shared_segmenter_switches_to_installed_words_and_back() {
    let shared = SharedSegmenter::default();
    assert!(shared.current().user_words().is_empty());
    shared.install(&["峰谷电价".to_owned()]);
    assert_eq!(shared.current().user_words(), ["峰谷电价".to_owned()]);
    shared.install(&[]);
    assert!(shared.current().user_words().is_empty());
}

#[test]
fn snippets_mark_whole_words_only() {
    let s = seg().snippet("停电后电费怎么算，电 的问题", &["电".to_owned()], 100);
    let marked = s.marked("[", "]");
    assert_eq!(marked, "停电后电费怎么算，[电] 的问题");
    let s = seg().snippet("这个月电费太高了", &["电费".to_owned()], 100);
    assert_eq!(s.marked("[", "]"), "这个月[电费]太高了");
}

#[test]
fn snippets_window_around_the_first_hit_and_say_what_was_cut() {
    let text = format!("{}电费{}", "前".repeat(100), "后".repeat(100));
    let s = seg().snippet(&text, &["电费".to_owned()], 40);
    assert!(s.cut_before && s.cut_after);
    assert!(s.has_hit());
    let n: usize = s.pieces.iter().map(|p| p.text.chars().count()).sum();
    assert_eq!(n, 40);
    let none = seg().snippet("没有命中", &["电费".to_owned()], 40);
    assert!(!none.has_hit());
    assert_eq!(none.marked("[", "]"), "没有命中");
}

#[test]
fn a_word_is_indexed_whatever_the_cut_around_it() {
    // The cut gives 小区 / 路 / 灯不亮 here; 路灯 must still be found, 电 never inside 电费.
    assert!(
        seg()
            .index_terms("小区路灯不亮")
            .contains(&"路灯".to_owned())
    );
    assert!(!seg().index_terms("电费太高").contains(&"电".to_owned()));
}

#[test]
fn reserved_terms_never_come_from_a_text_or_a_query() {
    for text in ["KFU1x4x17 kfp13800000100 kft5678", "ｋｆｕ１ 范围"] {
        let index = seg().index_terms(text);
        let query = seg().query_terms(text);
        assert!(!index.iter().any(|t| is_reserved_term(t)), "{index:?}");
        assert!(!query.iter().any(|t| is_reserved_term(t)), "{query:?}");
    }
    assert!(is_reserved_term("kfu1x4"));
    assert!(
        !is_reserved_term("kfu"),
        "the bare prefix is an ordinary word"
    );
    assert!(!is_reserved_term("kfc1"));
    assert_eq!(
        seg().query_terms("kfu 5678"),
        vec!["kfu".to_owned(), "5678".to_owned()]
    );
}
