//! Roles of the two kinds of user, and the roles a contact can hold.

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal, $label:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable text stored in the database and used in forms.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// What a person reads.
            pub fn label(self) -> &'static str {
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
