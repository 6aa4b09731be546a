//! Assets (P8, C3, C4): devices per company and site, the workspace's own fields, and which
//! fields each company's portal shows.

pub(crate) mod edit;
mod fields;
mod read;

pub use edit::AssetDraft;
pub use fields::{CustomField, FieldSetting, ShownFields};
pub use read::{Asset, AssetPage, AssetQuery, AssetSort, PAGE_SIZE, WarrantyFilter};
