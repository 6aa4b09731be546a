//! Workspace branding (B1).

use portico_core::Action;

use crate::StoreError;
use crate::public::Branding;
use crate::scoped::{ScopedTx, fence};

/// Largest logo accepted, in bytes.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;

/// Accepts `#rgb` or `#rrggbb` and returns it lowercased in the long form.
pub fn normalise_color(text: &str) -> Option<String> {
    let hex = text.trim().strip_prefix('#')?;
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    match hex.len() {
        6 => Some(format!("#{}", hex.to_ascii_lowercase())),
        3 => Some(format!(
            "#{}",
            hex.chars()
                .flat_map(|c| [c, c])
                .collect::<String>()
                .to_ascii_lowercase()
        )),
        _ => None,
    }
}

impl ScopedTx<'_> {
    pub async fn branding(&mut self) -> Result<Branding, StoreError> {
        self.scope.may(Action::ManageBranding)?;
        let query = self.select(
            "w.name, w.primary_color, w.secondary_color, w.welcome_text, (w.logo_data IS NOT NULL) AS has_logo",
            &fence::WORKSPACES,
            "w",
        );
        let (name, primary_color, secondary_color, welcome_text, has_logo): (
            String,
            String,
            String,
            String,
            bool,
        ) = self.tx.one(query).await?;
        Ok(Branding {
            name,
            primary_color,
            secondary_color,
            welcome_text,
            has_logo,
        })
    }

    /// Saves name, colours and welcome text, after checking them.
    pub async fn save_branding(
        &mut self,
        name: &str,
        primary: &str,
        secondary: &str,
        welcome: &str,
    ) -> Result<(), StoreError> {
        self.scope.may(Action::ManageBranding)?;
        let name = name.trim();
        // The name goes into e-mail subjects: no line breaks or other control characters.
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "Enter a workspace name of at most 80 characters.".into(),
            ));
        }
        let primary = normalise_color(primary).ok_or_else(|| {
            StoreError::Invalid("The primary colour must look like #1a73e8.".into())
        })?;
        let secondary = normalise_color(secondary).ok_or_else(|| {
            StoreError::Invalid("The secondary colour must look like #1a73e8.".into())
        })?;
        if welcome.chars().count() > 2000 {
            return Err(StoreError::Invalid(
                "The welcome text is at most 2,000 characters.".into(),
            ));
        }
        let query = self.update(&fence::WORKSPACES, |set| {
            set.sql("name = ")
                .arg(name)
                .sql(", primary_color = ")
                .arg(primary)
                .sql(", secondary_color = ")
                .arg(secondary)
                .sql(", welcome_text = ")
                .arg(welcome.trim());
        });
        self.tx.exec(query).await?;
        self.audit(
            portico_core::AuditAction::SettingsChanged,
            None,
            portico_core::AuditTarget::new("branding", "", "Branding"),
            "name, colours and welcome text",
        )
        .await?;
        Ok(())
    }

    /// Stores a logo the web layer has already checked (PNG, or SVG free of active content), or
    /// removes it with `None`.
    pub async fn set_logo(&mut self, logo: Option<(&str, Vec<u8>)>) -> Result<(), StoreError> {
        let logo_set = logo.is_some();
        self.scope.may(Action::ManageBranding)?;
        let (mime, data) = match logo {
            Some((mime, data)) => {
                if data.len() > MAX_LOGO_BYTES {
                    return Err(StoreError::Invalid(
                        "The logo may be at most 256 KiB.".into(),
                    ));
                }
                (Some(mime.to_owned()), Some(data))
            }
            None => (None, None),
        };
        let query = self.update(&fence::WORKSPACES, |set| {
            set.sql("logo_mime = ")
                .arg(mime)
                .sql(", logo_data = ")
                .arg(data);
        });
        self.tx.exec(query).await?;
        self.audit(
            portico_core::AuditAction::SettingsChanged,
            None,
            portico_core::AuditTarget::new("branding", "", "Branding"),
            if logo_set {
                "logo replaced"
            } else {
                "logo removed"
            },
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_color;

    #[test]
    fn colours_are_checked_and_normalised() {
        assert_eq!(normalise_color("#1A73E8").as_deref(), Some("#1a73e8"));
        assert_eq!(normalise_color("#abc").as_deref(), Some("#aabbcc"));
        assert_eq!(normalise_color("red"), None);
        assert_eq!(normalise_color("#12345g"), None);
        assert_eq!(normalise_color("#1234;}"), None);
    }
}
