//! Friendly product names for Microsoft 365 SKUs: Graph reports only the `skuPartNumber`
//! (`O365_BUSINESS_PREMIUM` is Microsoft 365 Business *Standard*). Data from Microsoft's
//! "Product names and service plan identifiers for licensing" table (see
//! `tests/fixtures/graph/SOURCES.md`); a code not listed is shown as Graph gives it.

/// (`skuPartNumber`, product name), sorted by code for the binary search.
const NAMES: &[(&str, &str)] = &[
    ("AAD_PREMIUM", "Microsoft Entra ID P1"),
    ("AAD_PREMIUM_P2", "Microsoft Entra ID P2"),
    (
        "ATP_ENTERPRISE",
        "Microsoft Defender for Office 365 (Plan 1)",
    ),
    ("DEFENDER_ENDPOINT_P1", "Microsoft Defender for Endpoint P1"),
    ("DESKLESSPACK", "Office 365 F3"),
    ("EMS", "Enterprise Mobility + Security E3"),
    ("EMSPREMIUM", "Enterprise Mobility + Security E5"),
    ("ENTERPRISEPACK", "Office 365 E3"),
    ("ENTERPRISEPREMIUM", "Office 365 E5"),
    (
        "ENTERPRISEPREMIUM_NOPSTNCONF",
        "Office 365 E5 Without Audio Conferencing",
    ),
    (
        "EXCHANGEARCHIVE_ADDON",
        "Exchange Online Archiving for Exchange Online",
    ),
    ("EXCHANGEDESKLESS", "Exchange Online Kiosk"),
    ("EXCHANGEENTERPRISE", "Exchange Online (Plan 2)"),
    ("EXCHANGESTANDARD", "Exchange Online (Plan 1)"),
    ("EXCHANGE_S_ESSENTIALS", "Exchange Online Essentials"),
    ("FLOW_FREE", "Microsoft Power Automate Free"),
    ("IDENTITY_THREAT_PROTECTION", "Microsoft 365 E5 Security"),
    ("INTUNE_A_D", "Microsoft Intune Device"),
    ("M365_F1", "Microsoft 365 F1"),
    ("MCOEV", "Microsoft Teams Phone Standard"),
    ("MCOMEETADV", "Microsoft 365 Audio Conferencing"),
    (
        "Microsoft_365_Copilot",
        "Microsoft Copilot for Microsoft 365",
    ),
    ("Microsoft_365_E3_(no_Teams)", "Microsoft 365 E3 (no Teams)"),
    ("Microsoft_Teams_Rooms_Pro", "Microsoft Teams Rooms Pro"),
    ("O365_BUSINESS", "Microsoft 365 Apps for Business"),
    ("O365_BUSINESS_ESSENTIALS", "Microsoft 365 Business Basic"),
    ("O365_BUSINESS_PREMIUM", "Microsoft 365 Business Standard"),
    ("OFFICESUBSCRIPTION", "Microsoft 365 Apps for Enterprise"),
    ("Office_365_E3_(no_Teams)", "Office 365 E3 (no Teams)"),
    ("PBI_PREMIUM_PER_USER", "Power BI Premium Per User"),
    (
        "PHONESYSTEM_VIRTUALUSER",
        "Microsoft Teams Phone Resource Account",
    ),
    ("POWER_BI_PRO", "Power BI Pro"),
    ("POWER_BI_STANDARD", "Microsoft Fabric (Free)"),
    ("PROJECTPROFESSIONAL", "Planner and Project Plan 3"),
    ("SHAREPOINTENTERPRISE", "SharePoint Online (Plan 2)"),
    ("SHAREPOINTSTANDARD", "SharePoint Online (Plan 1)"),
    ("SMB_BUSINESS", "Microsoft 365 Apps for Business"),
    ("SPB", "Microsoft 365 Business Premium"),
    ("SPE_E3", "Microsoft 365 E3"),
    ("SPE_E5", "Microsoft 365 E5"),
    ("SPE_F1", "Microsoft 365 F3"),
    ("STANDARDPACK", "Office 365 E1"),
    ("TEAMS_EXPLORATORY", "Microsoft Teams Exploratory"),
    (
        "THREAT_INTELLIGENCE",
        "Microsoft Defender for Office 365 (Plan 2)",
    ),
    ("VISIOCLIENT", "Visio Plan 2"),
    ("VISIOONLINE_PLAN1", "Visio Plan 1"),
];

/// The product name of a SKU code, or the code itself when unknown.
pub fn product_name(sku_part_number: &str) -> String {
    NAMES
        .binary_search_by(|(code, _)| code.cmp(&sku_part_number))
        .map(|i| NAMES[i].1.to_owned())
        .unwrap_or_else(|_| sku_part_number.replace('_', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_names_what_graph_does_not() {
        assert!(NAMES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(
            product_name("O365_BUSINESS_PREMIUM"),
            "Microsoft 365 Business Standard"
        );
        assert_eq!(product_name("SPB"), "Microsoft 365 Business Premium");
        assert_eq!(product_name("NEW_THING_X"), "NEW THING X");
    }
}
