//! Surrogate identifiers of stored entities, as newtypes so a customer id is never passed where
//! a staff id is expected.

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A node of the org tree (HQ, province, city, county, station).
    OrgUnitId
);
id_type!(
    /// A department inside an org unit.
    DepartmentId
);
id_type!(
    /// A staff member (a login).
    StaffId
);
id_type!(
    /// A customer of the archive.
    CustomerId
);
id_type!(
    /// An API token issued to a staff member.
    ApiTokenId
);
