//! Assets (P8, C3): the devices and other things an MSP looks after at a client's sites, and
//! which of their fields a client is shown.

use crate::roles::text_enum;

text_enum!(
    /// What kind of thing an asset is.
    AssetKind {
        Workstation => "workstation", "Workstation";
        Laptop => "laptop", "Laptop";
        Server => "server", "Server";
        Network => "network", "Network device";
        Printer => "printer", "Printer";
        Phone => "phone", "Phone";
        Tablet => "tablet", "Tablet";
        Other => "other", "Other";
    }
);

text_enum!(
    /// A built-in field of an asset that the MSP may show or hide on the portal. The name, kind
    /// and site are always shown: without them a client could not tell one asset from another.
    AssetField {
        Manufacturer => "manufacturer", "Manufacturer";
        Model => "model", "Model";
        Serial => "serial", "Serial number";
        Os => "os", "Operating system";
        WarrantyEnd => "warranty_end", "Warranty end";
        PurchasedOn => "purchased_on", "Purchase date";
        LastSeen => "last_seen", "Last seen";
        AssignedUser => "assigned_user", "Assigned user";
        Notes => "notes", "Notes";
    }
);

impl AssetField {
    /// What a client admin may correct on an asset themselves, where the MSP allows it and the
    /// portal shows the field (besides the name and the workspace's own fields): who uses it
    /// and notes about it. The rest is the MSP's inventory, changed on request.
    pub fn client_editable(self) -> bool {
        matches!(self, AssetField::AssignedUser | AssetField::Notes)
    }

    /// Shown on the portal unless the workspace or company says otherwise. Notes are the
    /// MSP's own until it chooses to share them.
    pub fn shown_by_default(self) -> bool {
        self != AssetField::Notes
    }
}
