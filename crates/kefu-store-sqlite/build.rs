// `sqlx::migrate!()` embeds the `migrations/` folder at compile time; without this, a new
// migration file would not make cargo rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
