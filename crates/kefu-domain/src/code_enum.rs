//! A macro for the many closed vocabularies of the domain: each variant has a stable short code
//! (stored in the database and used in the API) and a zh-CN and an English label for the UI.

/// Declares an enum whose variants map to stable text codes and bilingual labels.
///
/// Generates `ALL`, `code()`, `from_code()`, `label_zh()`, `label_en()` and `Display` (the code).
#[macro_export]
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = ($code:literal, $zh:literal, $en:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code used in storage and in the API.
            pub const fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The variant for a stored or submitted code, if it is one.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            /// The zh-CN label shown in the UI.
            pub const fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            /// The English label shown in the UI.
            pub const fn label_en(self) -> &'static str {
                match self { $($name::$variant => $en),+ }
            }

            /// All codes joined for error messages ("one of: a, b, c").
            pub fn codes_list() -> String {
                [$($code),+].join(", ")
            }

            /// Parses a code, naming the accepted codes when it is not one.
            pub fn parse_code(field: &str, code: &str) -> Result<Self, $crate::FieldError> {
                Self::from_code(code).ok_or_else(|| {
                    $crate::FieldError::new(
                        field,
                        format!("unknown value '{}'; use one of: {}", code, Self::codes_list()),
                    )
                })
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
