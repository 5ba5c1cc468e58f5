//! Names for Microsoft first-party application ids, from the event crate's documented table.
//!
//! Used to describe applications in findings and to avoid linking incidents through ids that every
//! tenant uses; never to trust an application.

/// The display name of a Microsoft first-party application id.
pub(crate) fn app_name(id: &str) -> Option<&'static str> {
    mailtrail_event::first_party_app(id).map(|a| a.name)
}
