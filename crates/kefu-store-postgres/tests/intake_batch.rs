//! PostgreSQL-only: an intake whose order row the database refuses fails alone. The writer
//! tries a batch without savepoints first; a failing statement makes it write the batch again
//! with one savepoint per intake, so the others are stored with gap-free numbers.

use kefu_domain::workorder::Channel;
use kefu_store::{IntakeOptions, IntakeOutcome, WorkOrderStore, WorkOrderStoreError};
use kefu_store_postgres::testing::fresh_store;
use kefu_store_tests::fixtures::{at, tree};
use kefu_store_tests::workorder_batch::join_all;
use kefu_store_tests::workorder_fixtures::{cast, intake, sla};

/// The caller whose order rows the test's trigger refuses.
const POISONED: i64 = 99;

#[tokio::test]
async fn an_intake_the_database_refuses_fails_alone_and_the_batch_is_written() {
    let store = fresh_store().await;
    let t = tree(&store).await;
    let c = cast(&t);
    // A check the domain does not know about, refusing one caller's order rows.
    sqlx::raw_sql(
        "CREATE FUNCTION refuse_poisoned() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.customer_id = 99 THEN RAISE EXCEPTION 'poisoned row'; END IF; \
         RETURN NEW; END $$; \
         CREATE TRIGGER refuse_poisoned BEFORE INSERT ON work_orders \
         FOR EACH ROW EXECUTE FUNCTION refuse_poisoned();",
    )
    .execute(store.pool())
    .await
    .expect("trigger");
    let opts = IntakeOptions::default();
    let (store, agent) = (&store, &c.agent);
    let tries = (0..12i64).map(|i| {
        let customer = if i == 5 { POISONED } else { i + 1 };
        let mine = intake(
            customer,
            &t.county_a.path,
            "complaint.tariff",
            Channel::App,
            None,
        );
        async move {
            (
                customer,
                store.intake(mine, opts, agent, sla(), at(1)).await,
            )
        }
    });
    let mut seqs = Vec::new();
    for (customer, answer) in join_all(tries.collect()).await {
        match answer {
            Ok((o, IntakeOutcome::Created)) if customer != POISONED => {
                seqs.push(o.order.number.seq());
            }
            Err(WorkOrderStoreError::Store(_)) if customer == POISONED => {}
            other => panic!("customer {customer} answered {other:?}"),
        }
    }
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=11).collect::<Vec<u32>>(),
        "the eleven others, numbered without gaps"
    );
}
