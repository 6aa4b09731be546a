//! Roles of the two kinds of user, and the roles a contact can hold.

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal, $label:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable text stored in the database and used in forms.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// What a person reads.
            pub const fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}
pub(crate) use text_enum;

/// Marks `text_enum`s as [`TextEnum`]s, and refuses to compile if a stored name or label of
/// theirs holds a character HTML escapes.
macro_rules! plain_text {
    ($($name:ident),+) => {$(
        impl $crate::roles::sealed::Sealed for $name {}
        impl $crate::roles::TextEnum for $name {
            fn stored_name(self) -> &'static str {
                self.as_str()
            }
            fn label_text(self) -> &'static str {
                self.label()
            }
        }
        const _: () = {
            let mut i = 0;
            while i < $name::ALL.len() {
                let v = $name::ALL[i];
                assert!(
                    $crate::roles::html_plain(v.as_str()) && $crate::roles::html_plain(v.label()),
                    "a stored name or label holds a character HTML escapes"
                );
                i += 1;
            }
        };
    )+};
}
pub(crate) use plain_text;

/// An enum of the program's own whose stored names and labels hold no character HTML would
/// escape (checked when it is compiled), so pages may write them as they are. Sealed: only
/// the enums declared here have it.
pub trait TextEnum: Copy + sealed::Sealed {
    fn stored_name(self) -> &'static str;
    fn label_text(self) -> &'static str;
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// True when `text` holds none of `<`, `>`, `&`, `"` and `'`.
pub const fn html_plain(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if matches!(bytes[i], b'<' | b'>' | b'&' | b'"' | b'\'') {
            return false;
        }
        i += 1;
    }
    true
}

text_enum!(
    /// What a member of the MSP's staff may do in the console.
    StaffRole {
        Owner => "owner", "Owner / Admin";
        Technician => "technician", "Technician";
        Sales => "sales", "Sales";
        Billing => "billing", "Billing";
    }
);

text_enum!(
    /// What a client's user may do in the portal.
    PortalRole {
        ClientAdmin => "client_admin", "Client admin";
        Member => "member", "Member";
        Viewer => "viewer", "Viewer";
    }
);

text_enum!(
    /// The part a contact plays for their company.
    ContactRole {
        Primary => "primary", "Primary";
        Backup => "backup", "Backup";
        PurchaseApprover => "purchase_approver", "Purchase approver";
        Billing => "billing", "Billing";
        Technical => "technical", "Technical";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_stored_text() {
        for role in StaffRole::ALL {
            assert_eq!(StaffRole::parse(role.as_str()), Some(*role));
        }
        for role in PortalRole::ALL {
            assert_eq!(PortalRole::parse(role.as_str()), Some(*role));
        }
        for role in ContactRole::ALL {
            assert_eq!(ContactRole::parse(role.as_str()), Some(*role));
        }
        assert_eq!(StaffRole::parse("root"), None);
    }
}
