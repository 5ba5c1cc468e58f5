//! Small enumerations that exports write as numbers or as names.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares an enum whose values arrive as a number or a name, with a catch-all that keeps the
/// original text so nothing a future schema adds is lost.
macro_rules! number_or_name {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $code:literal $(| $alias:literal)* ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept as written.
            Other(String),
        }

        impl $name {
            /// Parses a number (`"5"`) or a name (`"Application"`, any case). `None` if empty.
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                if s.is_empty() {
                    return None;
                }
                if let Ok(n) = s.parse::<i64>() {
                    return Some(Self::from_code(n));
                }
                $(
                    if s.eq_ignore_ascii_case(stringify!($variant)) $(|| s.eq_ignore_ascii_case($alias))* {
                        return Some(Self::$variant);
                    }
                )+
                Some(Self::Other(s.to_owned()))
            }

            /// The value for a number.
            pub fn from_code(n: i64) -> Self {
                match n {
                    $( $code => Self::$variant, )+
                    other => Self::Other(other.to_string()),
                }
            }

            /// The number Microsoft uses for this value, when it has one.
            pub fn code(&self) -> Option<i64> {
                match self {
                    $( Self::$variant => Some($code), )+
                    Self::Other(s) => s.parse().ok(),
                }
            }

            /// The name Microsoft uses for this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => stringify!($variant), )+
                    Self::Other(s) => s,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

number_or_name! {
    /// Who performed an audited operation (`UserType` in the Management Activity API schema).
    UserType {
        /// A regular user.
        Regular = 0,
        /// Reserved.
        Reserved = 1,
        /// An administrator in the organisation.
        Admin = 2,
        /// A Microsoft datacenter administrator or datacenter system account.
        DcAdmin = 3,
        /// A system account.
        System = 4,
        /// An application.
        Application = 5,
        /// A service principal.
        ServicePrincipal = 6,
        /// A custom policy.
        CustomPolicy = 7,
        /// A system policy.
        SystemPolicy = 8,
    }
}

number_or_name! {
    /// How the actor reached the mailbox (`LogonType` / `InternalLogonType` of Exchange mailbox audit).
    LogonType {
        /// The mailbox owner.
        Owner = 0,
        /// An administrator.
        Admin = 1,
        /// A delegate with permissions on the mailbox.
        Delegate = 2,
        /// The transport service.
        Transport = 3,
        /// A Microsoft service account.
        SystemService = 4,
        /// Best access.
        BestAccess = 5,
        /// A delegated administrator (partner).
        DelegatedAdmin = 6,
    }
}

number_or_name! {
    /// The `MailAccessType` operation property of `MailItemsAccessed`.
    MailAccessType {
        /// Individual messages were opened; the record lists their InternetMessageIds (aggregated
        /// per two minutes).
        Bind = 0,
        /// A folder was synchronised by a client: everything in it must be assumed read.
        Sync = 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names_are_the_same_value() {
        assert_eq!(UserType::parse("5"), Some(UserType::Application));
        assert_eq!(UserType::parse("application"), Some(UserType::Application));
        assert_eq!(LogonType::parse("2"), LogonType::parse("Delegate"));
        assert_eq!(MailAccessType::parse("Sync"), Some(MailAccessType::Sync));
    }

    #[test]
    fn unknown_values_are_kept_as_written() {
        assert_eq!(UserType::parse("42"), Some(UserType::Other("42".into())));
        assert_eq!(UserType::parse("42").and_then(|u| u.code()), Some(42));
        assert_eq!(
            LogonType::parse("Robot").map(|l| l.to_string()),
            Some("Robot".to_owned())
        );
        assert_eq!(UserType::parse(""), None);
    }
}
