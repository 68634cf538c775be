//! The upload-job story: a job is created queued, moves through running to done with its
//! problems kept in order, is read only in its uploader's scope, refuses moves out of a
//! finished state, and is left interrupted by a restart.

use kefu_domain::auth::Role;
use kefu_domain::import_job::ImportJobState;
use kefu_store::{ImportJobCounts, ImportProblem, ImportProgress, NewImportJob, Store, StoreError};

use crate::fixtures::{at, staff, t0, tree};

fn problem(line: i64, field: &str) -> ImportProblem {
    ImportProblem {
        line,
        field: field.to_owned(),
        reason: format!("原因 reason of line {line}"),
        original: vec![
            format!("10{line}"),
            "张三, \"引号\"".to_owned(),
            String::new(),
        ],
    }
}

fn progress(state: ImportJobState, read: i64, problems: Vec<ImportProblem>) -> ImportProgress {
    ImportProgress {
        state,
        counts: ImportJobCounts {
            rows_read: read,
            rows_stored: read - problems.len() as i64,
            rows_bad: problems.len() as i64,
        },
        headers: None,
        problems,
        error: None,
    }
}

pub async fn an_import_job_keeps_its_progress_and_problems_in_order(store: &dyn Store) {
    let t = tree(store).await;
    let clerk = staff(store, "import.clerk", &t.county_a, &[Role::CustomerManager]).await;
    let job = store
        .create_import_job(
            NewImportJob {
                file_name: "客户档案.csv".to_owned(),
                file_bytes: 1234,
                staff_id: clerk.id,
                scope: t.county_a.path.clone(),
            },
            t0(),
        )
        .await
        .expect("created");
    assert_eq!(job.state, ImportJobState::Queued);
    assert_eq!(job.counts, ImportJobCounts::default());
    assert!(job.headers.is_empty());

    let mut first = progress(ImportJobState::Running, 10, vec![problem(3, "户号")]);
    first.headers = Some(vec!["户号".to_owned(), "户名".to_owned()]);
    store
        .record_import_progress(job.id, first, at(1))
        .await
        .expect("progress");
    store
        .record_import_progress(
            job.id,
            progress(
                ImportJobState::Done,
                20,
                vec![problem(12, "证件号码"), problem(12, "联系电话")],
            ),
            at(2),
        )
        .await
        .expect("done");

    let read = store
        .get_import_job(job.id, &t.province.path)
        .await
        .expect("read")
        .expect("in scope from above");
    assert_eq!(read.state, ImportJobState::Done);
    assert_eq!(read.counts.rows_read, 20);
    assert_eq!(read.counts.rows_bad, 2);
    assert_eq!(read.headers, vec!["户号".to_owned(), "户名".to_owned()]);
    assert_eq!(read.updated_at, at(2));
    assert_eq!(read.file_name, "客户档案.csv");

    let all = store
        .list_import_problems(job.id, 0, 100)
        .await
        .expect("problems");
    assert_eq!(
        all,
        vec![
            problem(3, "户号"),
            problem(12, "证件号码"),
            problem(12, "联系电话")
        ]
    );
    let rest = store
        .list_import_problems(job.id, 1, 1)
        .await
        .expect("a page");
    assert_eq!(rest, vec![problem(12, "证件号码")]);
}

pub async fn an_import_job_is_hidden_outside_its_uploaders_scope(store: &dyn Store) {
    let t = tree(store).await;
    let clerk = staff(store, "import.clerk", &t.county_a, &[Role::CustomerManager]).await;
    let job = store
        .create_import_job(
            NewImportJob {
                file_name: "a.csv".to_owned(),
                file_bytes: 1,
                staff_id: clerk.id,
                scope: t.county_a.path.clone(),
            },
            t0(),
        )
        .await
        .expect("created");
    for outside in [&t.city_b.path, &t.county_b.path] {
        assert_eq!(
            store.get_import_job(job.id, outside).await.expect("read"),
            None
        );
    }
    assert!(
        store
            .get_import_job(job.id, &t.county_a.path)
            .await
            .expect("read")
            .is_some()
    );
}

pub async fn a_finished_import_job_refuses_further_progress(store: &dyn Store) {
    let t = tree(store).await;
    let clerk = staff(store, "import.clerk", &t.county_a, &[Role::Admin]).await;
    let job = store
        .create_import_job(
            NewImportJob {
                file_name: "a.csv".to_owned(),
                file_bytes: 1,
                staff_id: clerk.id,
                scope: t.county_a.path.clone(),
            },
            t0(),
        )
        .await
        .expect("created");
    let mut failed = progress(ImportJobState::Failed, 0, vec![]);
    failed.error = Some("缺少必需列 missing columns".to_owned());
    store
        .record_import_progress(job.id, failed, at(1))
        .await
        .expect("failed");
    let again = store
        .record_import_progress(
            job.id,
            progress(ImportJobState::Running, 5, vec![problem(2, "户号")]),
            at(2),
        )
        .await;
    assert!(
        matches!(again, Err(StoreError::InvalidState(_))),
        "{again:?}"
    );
    let read = store
        .get_import_job(job.id, &t.hq.path)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(read.state, ImportJobState::Failed);
    assert_eq!(read.error.as_deref(), Some("缺少必需列 missing columns"));
    assert_eq!(
        read.counts.rows_read, 0,
        "the refused progress wrote nothing"
    );
    assert!(
        store
            .list_import_problems(job.id, 0, 10)
            .await
            .expect("problems")
            .is_empty()
    );
    let missing = store
        .record_import_progress(
            job.id + 1000,
            progress(ImportJobState::Running, 1, vec![]),
            at(3),
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
}

pub async fn a_restart_leaves_unfinished_import_jobs_interrupted(store: &dyn Store) {
    let t = tree(store).await;
    let clerk = staff(store, "import.clerk", &t.county_a, &[Role::Admin]).await;
    let mut ids = Vec::new();
    for name in ["queued.csv", "running.csv", "done.csv"] {
        let job = store
            .create_import_job(
                NewImportJob {
                    file_name: name.to_owned(),
                    file_bytes: 1,
                    staff_id: clerk.id,
                    scope: t.county_a.path.clone(),
                },
                t0(),
            )
            .await
            .expect("created");
        ids.push(job.id);
    }
    store
        .record_import_progress(ids[1], progress(ImportJobState::Running, 3, vec![]), at(1))
        .await
        .expect("running");
    store
        .record_import_progress(ids[2], progress(ImportJobState::Running, 3, vec![]), at(1))
        .await
        .expect("running");
    store
        .record_import_progress(ids[2], progress(ImportJobState::Done, 4, vec![]), at(2))
        .await
        .expect("done");
    assert_eq!(
        store
            .interrupt_unfinished_import_jobs(at(5))
            .await
            .expect("interrupted"),
        2
    );
    let mut states = Vec::new();
    for id in &ids {
        let job = store
            .get_import_job(*id, &t.hq.path)
            .await
            .expect("read")
            .expect("stored");
        states.push(job.state);
    }
    assert_eq!(
        states,
        vec![
            ImportJobState::Interrupted,
            ImportJobState::Interrupted,
            ImportJobState::Done
        ]
    );
}
