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
    }
);

impl Section {
    /// The product capability id the section implements.
    pub fn capability(self) -> &'static str {
        match self {
            Section::Overview => "P1",
            Section::Tickets => "P2",
            Section::Work => "P3",
            Section::Maintenance => "P4",
            Section::Security => "P5",
            Section::Compliance => "P6",
            Section::Backup => "P7",
            Section::Assets => "P8",
            Section::Invoices => "P9",
            Section::Contacts => "P10",
            Section::Licences => "P11",
            Section::KnowledgeBase => "P12",
            Section::Reports => "P13",
            Section::ChangeRequests => "P14",
            Section::Documentation => "P15",
            Section::EmailPreferences => "P16",
            Section::Profile => "P17",
            Section::Roadmap => "P18",
            Section::Users => "P19",
            Section::Feedback => "P20",
        }
    }

    /// The portal path of the section's first page, for sections that have pages yet.
    pub fn portal_path(self) -> Option<&'static str> {
        match self {
            Section::Overview => Some("/"),
            Section::Tickets => Some("/tickets"),
            Section::EmailPreferences => Some("/preferences"),
            Section::Profile => Some("/profile"),
            _ => None,
        }
    }

    /// Whether the portal has pages for this section yet. Sections without pages can be
    /// configured ahead of time but never appear in the portal's navigation.
    pub fn has_pages(self) -> bool {
        self.portal_path().is_some()
    }

    /// Sections a workspace enables by default for a company whose portal is switched on.
    pub fn enabled_by_default(self) -> bool {
        matches!(
            self,
            Section::Overview | Section::Tickets | Section::EmailPreferences
        )
    }

    /// The profile is every portal user's own and cannot be switched off.
    pub fn always_on(self) -> bool {
        matches!(self, Section::Profile)
    }
}
