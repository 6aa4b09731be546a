//! Ids from a request's path, parsed by the extractor: a malformed one is answered like a
//! missing record (404), and no handler holds the text to forget the check.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use portico_core::{
    AssetId, AttestationId, CannedResponseId, ChangeRequestId, CompanyId, ConnectorId, ContactId,
    ImportId, InvoiceId, MaintenanceId, MessageId, PentestId, PortalUserId, SiteId, StaffUserId,
    TicketId, WorkspaceId,
};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::WebError;

/// The ids of a route's path: `IdPath<TicketId>` for `/tickets/{ticket}`,
/// `IdPath<(CompanyId, PortalUserId)>` for `/companies/{company}/users/{user}`.
///
/// Take it last, after [`crate::auth::Auth`] and any query: whoever may not open the page hears
/// that, whatever the id (the authorization matrix sends malformed ids to callers without a
/// session). A form's ids come with the form instead ([`crate::auth::SignedForm`],
/// [`crate::uploads::FormWithFiles`]), which judge them after its CSRF token.
pub(crate) struct IdPath<T>(pub T);

impl<T: PathIds> FromRequestParts<AppState> for IdPath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        let text = T::read(parts).await?;
        T::parse(text)
            .map(IdPath)
            .ok_or_else(|| WebError::NotFound.into_response())
    }
}

/// What a route's path holds: one id, two, or (for a form on a route without ids) nothing.
pub(crate) trait PathIds: Sized + Send {
    /// The segments' text, as the path gives it.
    type Text: Send;
    /// Reads the segments. A path axum cannot read (not UTF-8) is refused as its `Path` refuses
    /// it: in two steps, so that a form can read its path first and judge its ids last.
    fn read(parts: &mut Parts) -> impl Future<Output = Result<Self::Text, Response>> + Send;
    /// The ids, or `None` when one is malformed.
    fn parse(text: Self::Text) -> Option<Self>;
}

/// The path's segments as axum's `Path` reads them, with its refusal.
pub(crate) async fn segments<T: DeserializeOwned + Send>(parts: &mut Parts) -> Result<T, Response> {
    Path::<T>::from_request_parts(parts, &())
        .await
        .map(|Path(text)| text)
        .map_err(IntoResponse::into_response)
}

impl PathIds for () {
    type Text = ();

    async fn read(_: &mut Parts) -> Result<(), Response> {
        Ok(())
    }

    fn parse((): ()) -> Option<()> {
        Some(())
    }
}

macro_rules! one_id {
    ($($id:ty),*) => {$(
        impl PathIds for $id {
            type Text = String;

            fn read(parts: &mut Parts) -> impl Future<Output = Result<String, Response>> + Send {
                segments(parts)
            }

            fn parse(text: String) -> Option<Self> {
                <$id>::parse(&text)
            }
        }
    )*};
}

one_id!(
    WorkspaceId,
    CompanyId,
    SiteId,
    ContactId,
    StaffUserId,
    PortalUserId,
    TicketId,
    MessageId,
    CannedResponseId,
    AssetId,
    MaintenanceId,
    InvoiceId,
    ChangeRequestId,
    ImportId,
    ConnectorId,
    PentestId,
    AttestationId
);

/// A requirement of a compliance framework, by its catalogue id (`e8.mfa.1a`, `cis.6.3`): one
/// the catalogue does not hold answers like a missing record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RequirementRef(pub(crate) &'static str);

impl PathIds for RequirementRef {
    type Text = String;

    fn read(parts: &mut Parts) -> impl Future<Output = Result<String, Response>> + Send {
        segments(parts)
    }

    fn parse(text: String) -> Option<Self> {
        portico_core::compliance::requirement(&text).map(|(_, _, r)| RequirementRef(r.id.as_str()))
    }
}

impl<A, B> PathIds for (A, B)
where
    A: PathIds<Text = String>,
    B: PathIds<Text = String>,
{
    type Text = (String, String);

    fn read(parts: &mut Parts) -> impl Future<Output = Result<Self::Text, Response>> + Send {
        segments(parts)
    }

    fn parse((a, b): (String, String)) -> Option<Self> {
        Some((A::parse(a)?, B::parse(b)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_ids_parse_only_when_both_are_well_formed() {
        let (company, user) = (CompanyId::new(), PortalUserId::new());
        type Both = (CompanyId, PortalUserId);
        assert_eq!(
            Both::parse((company.to_string(), user.to_string())),
            Some((company, user))
        );
        assert_eq!(Both::parse((company.to_string(), "1".into())), None);
        assert_eq!(Both::parse(("not-an-id".into(), user.to_string())), None);
    }
}
