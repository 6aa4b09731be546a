//! The portal's sections (PRODUCT.md §3). Each can be switched on or off and relabelled per company.

use crate::roles::text_enum;

text_enum!(
    /// A portal section. The stored text is stable; the label is the default a workspace may change.
    Section {
        Overview => "overview", "Overview";
        Tickets => "tickets", "Tickets";
        Work => "work", "Work";
        Maintenance => "maintenance", "Maintenance";
        Security => "security", "Security";
        Compliance => "compliance", "Compliance";
        Backup => "backup", "Backup";
        Assets => "assets", "Assets";
        Invoices => "invoices", "Invoices";
        Contacts => "contacts", "Contacts";
        Licences => "licences", "Licences & renewals";
        KnowledgeBase => "knowledge_base", "Knowledge base";
        Reports => "reports", "Reports";
        ChangeRequests => "change_requests", "Change requests";
        Documentation => "documentation", "Documentation";
        EmailPreferences => "email_preferences", "Email preferences";
        Profile => "profile", "Profile";
        Roadmap => "roadmap", "Roadmap";
        Users => "users", "Users";
        Feedback => "feedback", "Feedback";
        AuditLog => "audit_log", "Audit log";
    }
);

/// Who may open a section, beyond its being switched on for the company.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionAudience {
    /// Every portal role.
    Everyone,
    /// Client admins only (managing the company's people and changes).
    ClientAdmins,
    /// Portal users with the billing entitlement only (money is the whole section).
    Billing,
}

/// One portal section, declared once: the descriptor drives the portal's navigation, the
/// console's portal settings pages, the 404 a switched-off section answers (every route
/// registered under the section, see `portico-web`'s registry), and the authorization matrix's
/// rows for it. Adding a section is: a store module, a web module per surface, templates, and a
/// row in [`SECTIONS`] (see `docs/adding-a-section.md`).
#[derive(Debug, Clone, Copy)]
pub struct SectionSpec {
    pub section: Section,
    /// The product capability it implements (PRODUCT.md), for people reading the code; never
    /// shown in the product.
    pub capability: &'static str,
    /// The portal path of its first page; `None` while the section has no pages, in which case
    /// it can be configured ahead of time but never appears in navigation.
    pub path: Option<&'static str>,
    pub audience: SectionAudience,
    /// On for a company whose portal is switched on, unless the workspace or company says
    /// otherwise.
    pub on_by_default: bool,
    /// Every portal user's own (their profile): cannot be switched off.
    pub always_on: bool,
    /// The section's fields that only principals with the billing entitlement receive; the
    /// server leaves them out of everything it sends anyone else.
    pub billing_fields: &'static [&'static str],
}

const fn spec(section: Section, capability: &'static str) -> SectionSpec {
    SectionSpec {
        section,
        capability,
        path: None,
        audience: SectionAudience::Everyone,
        on_by_default: false,
        always_on: false,
        billing_fields: &[],
    }
}

/// Every portal section, in navigation order.
pub const SECTIONS: &[SectionSpec] = &[
    SectionSpec {
        path: Some("/"),
        on_by_default: true,
        billing_fields: &["plan fee", "hourly rate"],
        ..spec(Section::Overview, "P1")
    },
    SectionSpec {
        path: Some("/tickets"),
        on_by_default: true,
        ..spec(Section::Tickets, "P2")
    },
    SectionSpec {
        path: Some("/work"),
        on_by_default: true,
        // The company's use of its plan: the client admins' business.
        audience: SectionAudience::ClientAdmins,
        billing_fields: &["hourly rate", "billable amount"],
        ..spec(Section::Work, "P3")
    },
    SectionSpec {
        path: Some("/maintenance"),
        on_by_default: true,
        ..spec(Section::Maintenance, "P4")
    },
    SectionSpec {
        // `/security` is everyone's own sign-in security, on both surfaces.
        path: Some("/protection"),
        on_by_default: true,
        // Alerts name the company's people and mailboxes: the client admins' business.
        audience: SectionAudience::ClientAdmins,
        ..spec(Section::Security, "P5")
    },
    SectionSpec {
        path: Some("/compliance"),
        on_by_default: true,
        audience: SectionAudience::ClientAdmins,
        ..spec(Section::Compliance, "P6")
    },
    SectionSpec {
        path: Some("/backup"),
        on_by_default: true,
        ..spec(Section::Backup, "P7")
    },
    SectionSpec {
        path: Some("/assets"),
        on_by_default: true,
        ..spec(Section::Assets, "P8")
    },
    SectionSpec {
        path: Some("/invoices"),
        on_by_default: true,
        audience: SectionAudience::Billing,
        billing_fields: &["amount", "PDF"],
        ..spec(Section::Invoices, "P9")
    },
    SectionSpec {
        path: Some("/contacts"),
        on_by_default: true,
        ..spec(Section::Contacts, "P10")
    },
    SectionSpec {
        path: Some("/licences"),
        on_by_default: true,
        billing_fields: &["cost per user"],
        ..spec(Section::Licences, "P11")
    },
    spec(Section::KnowledgeBase, "P12"),
    spec(Section::Reports, "P13"),
    SectionSpec {
        path: Some("/changes"),
        on_by_default: true,
        ..spec(Section::ChangeRequests, "P14")
    },
    spec(Section::Documentation, "P15"),
    SectionSpec {
        path: Some("/preferences"),
        on_by_default: true,
        ..spec(Section::EmailPreferences, "P16")
    },
    SectionSpec {
        path: Some("/profile"),
        always_on: true,
        ..spec(Section::Profile, "P17")
    },
    spec(Section::Roadmap, "P18"),
    SectionSpec {
        path: Some("/users"),
        on_by_default: true,
        audience: SectionAudience::ClientAdmins,
        ..spec(Section::Users, "P19")
    },
    spec(Section::Feedback, "P20"),
    SectionSpec {
        path: Some("/audit"),
        on_by_default: true,
        // Who did what, the MSP's staff included, and the proof to check it: the client
        // admins' business.
        audience: SectionAudience::ClientAdmins,
        ..spec(Section::AuditLog, "A4")
    },
];

impl SectionSpec {
    /// Whether a portal user of `role`, with or without the billing entitlement, may open the
    /// section when it is switched on.
    pub fn admits(&self, role: crate::PortalRole, billing: bool) -> bool {
        match self.audience {
            SectionAudience::Everyone => true,
            SectionAudience::ClientAdmins => role == crate::PortalRole::ClientAdmin,
            SectionAudience::Billing => billing,
        }
    }
}

impl Section {
    /// The section's descriptor.
    pub fn spec(self) -> &'static SectionSpec {
        SECTIONS
            .iter()
            .find(|s| s.section == self)
            .expect("every section has a descriptor (checked by a test)")
    }

    /// The product capability id the section implements.
    pub fn capability(self) -> &'static str {
        self.spec().capability
    }

    /// The portal path of the section's first page, for sections that have pages yet.
    pub fn portal_path(self) -> Option<&'static str> {
        self.spec().path
    }

    /// Whether the portal has pages for this section yet. Sections without pages can be
    /// configured ahead of time but never appear in the portal's navigation.
    pub fn has_pages(self) -> bool {
        self.portal_path().is_some()
    }

    /// Sections a workspace enables by default for a company whose portal is switched on.
    pub fn enabled_by_default(self) -> bool {
        self.spec().on_by_default
    }

    /// The profile is every portal user's own and cannot be switched off.
    pub fn always_on(self) -> bool {
        self.spec().always_on
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_is_declared_once_in_order() {
        let declared: Vec<Section> = SECTIONS.iter().map(|s| s.section).collect();
        assert_eq!(
            declared,
            Section::ALL,
            "one descriptor per section, in order"
        );
        let mut paths: Vec<&str> = SECTIONS.iter().filter_map(|s| s.path).collect();
        let count = paths.len();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), count, "two sections share a path");
    }

    #[test]
    fn audiences_admit_whom_they_say() {
        use crate::PortalRole::*;
        let invoices = Section::Invoices.spec();
        assert!(invoices.admits(Member, true) && !invoices.admits(ClientAdmin, false));
        let users = Section::Users.spec();
        assert!(users.admits(ClientAdmin, false) && !users.admits(Member, true));
        assert!(Section::Tickets.spec().admits(Viewer, false));
    }
}
